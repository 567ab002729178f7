#!/usr/bin/env bash
# Load-test the coupon bot's webhook on loopback: the release server (fresh data dir, demo
# templates, SQLite unless DATABASE_URL is set) talks to the fake Bot API (testkit example), and
# wrk posts updates with unique update_ids (scripts/bench/telegram_webhook.lua).
#   1. /help updates: webhook receipt rate (wrk) and replies delivered per second (the fake's count).
#   2. /black-friday/C<n> updates (a new code each, so every one renders a JPEG): photos per second.
# Build first: cargo build --release -p promostack && cargo build --release -p promostack-testkit --example fake_telegram
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="${PROMOSTACK_BIN:-$ROOT/target/release/promostack}"
FAKE="${FAKE_BIN:-$ROOT/target/release/examples/fake_telegram}"
PORT="${PORT:-5093}"
FAKE_PORT="${FAKE_PORT:-5094}"
DURATION="${DURATION:-15s}"
CONNECTIONS="${CONNECTIONS:-64}"
DATA="$(mktemp -d)"
trap 'kill $SERVER $FAKE_PID 2>/dev/null || true; rm -rf "$DATA"' EXIT
"$FAKE" "127.0.0.1:$FAKE_PORT" 2>"$DATA/fake.log" &
FAKE_PID=$!
ADMIN_PASSWORD=bench DATA_DIR="$DATA" PORT="$PORT" RUST_LOG=warn \
  TELEGRAM_BOT_TOKEN="123:bench-token" TELEGRAM_WEBHOOK_SECRET=bench-secret \
  TELEGRAM_API_URL="http://127.0.0.1:$FAKE_PORT" TELEGRAM_RATE_LIMIT=off \
  "$BIN" >"$DATA/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
URL="http://127.0.0.1:$PORT/api/telegram-webhook"
sent() { tail -1 "$DATA/fake.log" | sed -E "s/.*$1 ([0-9]+).*/\1/"; }
drain() { # wait until the fake's count of $1 stops growing; print the seconds it took
  local last=-1 now start=$SECONDS
  while true; do sleep 2; now=$(sent "$1"); [ "$now" = "$last" ] && break; last=$now; done
  echo $((SECONDS - start - 2))
}
echo "== /help: $CONNECTIONS connections, $DURATION (load before: $(cut -d' ' -f1 /proc/loadavg))"
WEBHOOK_SECRET=bench-secret wrk -t2 -c"$CONNECTIONS" -d2s -s "$ROOT/scripts/bench/telegram_webhook.lua" "$URL" >/dev/null
drain sendMessage >/dev/null
before=$(sent sendMessage)
start=$SECONDS
WEBHOOK_SECRET=bench-secret wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$ROOT/scripts/bench/telegram_webhook.lua" "$URL" | grep -E 'updates/s|Non-2xx|Socket'
tail_secs=$(drain sendMessage)
after=$(sent sendMessage)
echo "replies delivered: $((after - before)) in $((SECONDS - start - 2)) s (drained ${tail_secs} s after wrk stopped)"
echo "== render path: a new code per update, $DURATION, 8 connections"
before=$(sent sendPhoto)
start=$SECONDS
BOT_TEXT="/black-friday/" WEBHOOK_SECRET=bench-secret wrk -t1 -c8 -d"$DURATION" -s "$ROOT/scripts/bench/telegram_webhook.lua" "$URL" | grep -E 'updates/s'
drain sendPhoto >/dev/null
after=$(sent sendPhoto)
secs=$((SECONDS - start - 2))
echo "photos delivered: $((after - before)) in ${secs} s = $(( (after - before) / (secs > 0 ? secs : 1) ))/s"
grep -c . "$DATA/server.log" | xargs echo "server log lines:"
