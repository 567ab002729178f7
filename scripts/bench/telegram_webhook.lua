-- wrk script: POST /help updates to the coupon bot's webhook, each with a unique update_id
-- (so none is dropped as a duplicate) from one of 100,000 users.
--   wrk -t2 -c64 -d20s -s scripts/bench/telegram_webhook.lua http://127.0.0.1:5000/api/telegram-webhook
-- Environment: WEBHOOK_SECRET (the bot's secret), BOT_TEXT (default "/help"); BOT_TEXT ending
-- in "/" gets a unique code appended (e.g. "/black-friday/C" -> /black-friday/C123: a new render).
local threads = {}
local secret = os.getenv("WEBHOOK_SECRET") or "bench-secret"
local text = os.getenv("BOT_TEXT") or "/help"

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  -- Distinct id ranges per thread and per run.
  base = (tid * 1000000000) + (os.time() % 100000) * 10000
end

function request()
  counter = counter + 1
  local update_id = base + counter
  -- Each thread writes for its own 50,000 users, in turn: two threads in lockstep would
  -- otherwise send for the same user at the same moment, which real traffic of 100,000 users
  -- at this rate almost never does (and which the bot must serialise).
  local user = 1000000 + (tid - 1) * 50000 + (counter % 50000)
  local message = text
  if string.sub(text, -1) == "/" then message = text .. "C" .. counter end
  local body = string.format(
    '{"update_id":%d,"message":{"message_id":%d,"date":1764000000,' ..
    '"from":{"id":%d,"is_bot":false,"first_name":"Bench","language_code":"en"},' ..
    '"chat":{"id":%d,"type":"private"},"text":"%s"}}',
    update_id, counter, user, user, message)
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["X-Telegram-Bot-Api-Secret-Token"] = secret,
  }, body)
end

function done(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout
  io.write(string.format("updates/s: %.0f  p50 %.2f ms  p99 %.2f ms  p99.9 %.2f ms  max %.2f ms  errors %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency:percentile(99.9) / 1000, latency.max / 1000, errors))
end
