-- wrk script for POST /api/render. RENDER_MODE=cached repeats one code (cache hits);
-- anything else sends a new code per request (every request renders).
-- Usage: see scripts/bench/render_api.sh
local counter = 0
local mode = os.getenv("RENDER_MODE") or "uncached"
local template = os.getenv("RENDER_TEMPLATE") or "black-friday"
local format = os.getenv("RENDER_FORMAT") or "jpeg"
local cookie = os.getenv("RENDER_COOKIE") or ""
local origin = os.getenv("RENDER_ORIGIN") or ""

request = function()
  counter = counter + 1
  local code = "SAVE20"
  if mode ~= "cached" then
    code = string.format("C%d%07d", math.random(1, 9), counter)
  end
  local body = string.format('{"template":"%s","variant":"square","code":"%s","format":"%s"}', template, code, format)
  return wrk.format("POST", "/api/render", {
    ["Content-Type"] = "application/json",
    ["Cookie"] = cookie,
    ["Origin"] = origin,
  }, body)
end

done = function(summary, latency, requests)
  io.write(string.format("mode=%s requests=%d errors=%d p50=%.2fms p90=%.2fms p99=%.2fms rps=%.0f\n",
    mode, summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6)))
end
