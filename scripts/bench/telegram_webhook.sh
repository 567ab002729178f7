#!/usr/bin/env bash
# Load-test the coupon bot's webhook on loopback: the release server (fresh data dir, demo
# templates) talks to the fake Bot API (testkit example), and wrk posts updates with unique
# update_ids (scripts/bench/telegram_webhook.lua).
#   1. /help updates: webhook receipts per second (wrk: each 200 means "committed"), and replies
#      delivered per second (the fake's sendMessage count from the start of the run until the
#      backlog is drained).
#   2. /black-friday/C<n> updates (a new code each, so every one renders a JPEG): photos per
#      second delivered while a backlog exists (rendering-bound), from the fake's per-second counts.
# Build first:
#   cargo build --release -p promostack --bin promostack
#   cargo build --release -p promostack-testkit --example fake_telegram
# Run:
#   scripts/bench/telegram_webhook.sh                                     # SQLite
#   BENCH_POSTGRES=postgres://postgres@127.0.0.1:5432 scripts/bench/telegram_webhook.sh
# (BENCH_POSTGRES: a fresh database is created there and dropped afterwards; PG_SSLMODE, default
# disable.)
# Knobs: DURATION (10s), CONNECTIONS (64), RENDER_DURATION (10s), DRAIN_MAX seconds (60),
# SKIP_RENDER=1.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="${PROMOSTACK_BIN:-$ROOT/target/release/promostack}"
FAKE="${FAKE_BIN:-$ROOT/target/release/examples/fake_telegram}"
PORT="${PORT:-5093}"
FAKE_PORT="${FAKE_PORT:-5094}"
DURATION="${DURATION:-10s}"
RENDER_DURATION="${RENDER_DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-64}"
DRAIN_MAX="${DRAIN_MAX:-60}"
DATA="$(mktemp -d)"
DB_NAME=""
cleanup() {
  kill "${SERVER:-}" "${FAKE_PID:-}" 2>/dev/null || true
  wait 2>/dev/null || true
  if [ -n "$DB_NAME" ]; then psql "$BENCH_POSTGRES/postgres" -qc "DROP DATABASE IF EXISTS $DB_NAME" >/dev/null || true; fi
  rm -rf "$DATA"
}
trap cleanup EXIT
BACKEND=sqlite
if [ -n "${BENCH_POSTGRES:-}" ]; then
  DB_NAME="bench_webhook_$$"
  psql "$BENCH_POSTGRES/postgres" -qc "CREATE DATABASE $DB_NAME" >/dev/null
  # Loopback without TLS by default, as a same-host deployment runs (Debian's server offers TLS,
  # which sqlx then uses: about 18 % fewer updates/s here). PG_SSLMODE=prefer to measure with it.
  export DATABASE_URL="$BENCH_POSTGRES/$DB_NAME?sslmode=${PG_SSLMODE:-disable}"
  BACKEND=postgres
fi
"$FAKE" "127.0.0.1:$FAKE_PORT" 2>"$DATA/fake.log" &
FAKE_PID=$!
ADMIN_PASSWORD=bench DATA_DIR="$DATA" PORT="$PORT" RUST_LOG=warn \
  TELEGRAM_BOT_TOKEN="123:bench-token" TELEGRAM_WEBHOOK_SECRET=bench-secret \
  TELEGRAM_API_URL="http://127.0.0.1:$FAKE_PORT" TELEGRAM_RATE_LIMIT=off \
  "$BIN" >"$DATA/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
URL="http://127.0.0.1:$PORT/api/telegram-webhook"
# The render path needs codes the workspace accepts: switch coupon validation to "any" code.
ORIGIN="http://127.0.0.1:$PORT"
COOKIE=$(curl -s -D - -o /dev/null -H "origin: $ORIGIN" -H 'content-type: application/json' \
  -d '{"password":"bench"}' "$ORIGIN/api/login" | grep -i '^set-cookie' | sed 's/^[Ss]et-[Cc]ookie: //; s/;.*//')
curl -sf -X PUT -H "origin: $ORIGIN" -H "cookie: $COOKIE" -H 'content-type: application/json' \
  -d '{"provider":"any"}' "$ORIGIN/api/coupon-settings" >/dev/null || echo "warning: could not switch coupon validation to any"
# The fake prints "sendMessage N (+n/s)  sendPhoto M (+m/s)" every second.
sent() { tail -1 "$DATA/fake.log" | sed -E "s/.*$1 ([0-9]+).*/\1/"; }
now_ms() { date +%s%3N; }
# Wait (at most DRAIN_MAX s) until the fake's count of $1 has not grown for 2 s. Sets DRAINED_AT
# (ms, when the count last grew) and DRAINED (0 when the bound was hit first).
drain() {
  local last; last=$(sent "$1"); local cur since deadline=$(( $(now_ms) + DRAIN_MAX * 1000 ))
  DRAINED_AT=$(now_ms); DRAINED=1
  while true; do
    sleep 0.5; cur=$(sent "$1")
    if [ "$cur" != "$last" ]; then last=$cur; DRAINED_AT=$(now_ms); fi
    since=$(( $(now_ms) - DRAINED_AT ))
    [ "$since" -ge 2000 ] && break
    if [ "$(now_ms)" -ge "$deadline" ]; then DRAINED=0; break; fi
  done
  # The fake's line lags up to 1 s; the count is read once more after it settled.
  DRAINED_AT=$(( DRAINED_AT - 1000 ))
}
rate() { awk -v n="$1" -v ms="$2" 'BEGIN { printf "%.0f", (ms > 0 ? n * 1000 / ms : 0) }'; }
echo "== $BACKEND, $(date -u '+%Y-%m-%d %H:%M UTC'), load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== /help: $CONNECTIONS connections, $DURATION"
WEBHOOK_SECRET=bench-secret wrk -t2 -c"$CONNECTIONS" -d2s -s "$ROOT/scripts/bench/telegram_webhook.lua" "$URL" >/dev/null
drain sendMessage
sleep 1
before=$(sent sendMessage)
# CPU ticks (1/100 s) of a process (utime + stime), and of the whole machine (busy = all but idle
# and iowait), to split each update's cost between the server, the fake and the rest.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
server0=$(ticks "$SERVER"); fake0=$(ticks "$FAKE_PID"); busy0=$(busy)
start=$(now_ms)
WEBHOOK_SECRET=bench-secret wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$ROOT/scripts/bench/telegram_webhook.lua" "$URL" | grep -E 'updates/s|Non-2xx|Socket'
wrk_ms=$(( $(now_ms) - start ))
drain sendMessage
after=$(sent sendMessage)
server1=$(ticks "$SERVER"); fake1=$(ticks "$FAKE_PID"); busy1=$(busy)
n=$((after - before))
per() { awk -v t="$1" -v n="$n" 'BEGIN { printf "%.0f", (n > 0 ? t * 10000 / n : 0) }'; }
echo "CPU per update (µs): server $(per $((server1 - server0))), fake Bot API $(per $((fake1 - fake0))), whole machine $(per $((busy1 - busy0))) (wrk, kernel and the rest: the difference)"
took=$(( DRAINED_AT - start )); [ "$took" -lt "$wrk_ms" ] && took=$wrk_ms
echo "replies delivered: $((after - before)) in $((took / 1000)).$(( (took % 1000) / 100 )) s = $(rate $((after - before)) "$took")/s (drained $(( (took - wrk_ms) / 1000 )) s after wrk stopped$([ "$DRAINED" = 1 ] || echo "; NOT drained within ${DRAIN_MAX} s"))"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "${SKIP_RENDER:-}" != 1 ]; then
  echo "== render path: a new code per update, $RENDER_DURATION, 2 connections"
  from=$(wc -l <"$DATA/fake.log")
  BOT_TEXT="/black-friday/" WEBHOOK_SECRET=bench-secret wrk -t1 -c2 -d"$RENDER_DURATION" -s "$ROOT/scripts/bench/telegram_webhook.lua" "$URL" | grep -E 'updates/s'
  to=$(wc -l <"$DATA/fake.log")
  # The fake's per-second photo counts while wrk ran (first and last second left out); the
  # backlog never ran dry in that window, so this is the render+send rate.
  sed -n "$((from + 2)),$((to - 1))p" "$DATA/fake.log" | sed -E 's/.*sendPhoto [0-9]+ \(\+([0-9]+)\/s\).*/\1/' |
    awk '{ s += $1; n++; if (min == "" || $1 < min) min = $1; if ($1 > max) max = $1 }
         END { printf "photos delivered/s: mean %.0f over %d s (min %d, max %d)\n", (n ? s / n : 0), n, min, max }'
  echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
fi
echo "server log lines (RUST_LOG=warn): $(grep -c . "$DATA/server.log" || true)"
grep -E 'WARN|ERROR' "$DATA/server.log" | cut -c1-200 | sort | uniq -c | sort -rn | head -5 || true
