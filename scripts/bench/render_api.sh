#!/usr/bin/env bash
# Load-test POST /api/render on loopback with wrk (Debian package): a release server on a fresh
# data dir with the demo templates, one connection per core, 10 s per mode.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="${PROMOSTACK_BIN:-$ROOT/target/release/promostack}"
PORT="${PORT:-5091}"
DATA="$(mktemp -d)"
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT
ADMIN_PASSWORD=bench DATA_DIR="$DATA" PORT="$PORT" RUST_LOG=warn "$BIN" >"$DATA/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
ORIGIN="http://127.0.0.1:$PORT"
COOKIE=$(curl -s -D - -o /dev/null -H "origin: $ORIGIN" -H 'content-type: application/json' \
  -d '{"password":"bench"}' "$ORIGIN/api/login" | grep -i '^set-cookie' | sed 's/^[Ss]et-[Cc]ookie: //; s/;.*//')
for format in ${FORMATS:-jpeg png}; do
  for mode in uncached cached; do
    # Warm-up: first render prepares the background (decode + encoder state).
    RENDER_MODE=$mode RENDER_FORMAT=$format RENDER_COOKIE="$COOKIE" RENDER_ORIGIN="$ORIGIN" \
      wrk -t1 -c1 -d2s -s "$ROOT/scripts/bench/render_api.lua" "$ORIGIN" >/dev/null
    echo -n "format=$format "
    RENDER_MODE=$mode RENDER_FORMAT=$format RENDER_COOKIE="$COOKIE" RENDER_ORIGIN="$ORIGIN" \
      wrk -t1 -c1 -d"${DURATION:-10s}" -s "$ROOT/scripts/bench/render_api.lua" "$ORIGIN" | grep '^mode='
  done
done
