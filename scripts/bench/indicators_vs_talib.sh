#!/usr/bin/env bash
# Whole-process speed of `promostack indicators` against the Python/TA-Lib script on a
# 20,000-bar CSV, measured with hyperfine; also checks both print the same numbers.
# Needs: a release build (cargo build --release -p promostack), python3 with ta-lib + numpy,
# hyperfine (apt-get install -y hyperfine). Set PROMOSTACK to the binary if not in target/.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN="${PROMOSTACK:-${CARGO_TARGET_DIR:-target}/release/promostack}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
python3 scripts/bench/make_bars_csv.py --bars 20000 "$WORK/bars_20k.csv"

"$BIN" indicators --csv "$WORK/bars_20k.csv" > "$WORK/rust.csv" 2>/dev/null
python3 scripts/bench/indicators_talib.py "$WORK/bars_20k.csv" > "$WORK/talib.csv"
python3 - "$WORK/rust.csv" "$WORK/talib.csv" <<'PY'
import csv, sys
a = list(csv.reader(open(sys.argv[1]))); b = list(csv.reader(open(sys.argv[2])))
assert a[0] == b[0] and len(a) == len(b), "headers or row counts differ"
worst = 0.0
for ra, rb in zip(a[1:], b[1:]):
    assert ra[0] == rb[0], (ra[0], rb[0])
    for x, y in zip(ra[1:], rb[1:]):
        assert (x == "") == (y == ""), (ra[0], x, y)
        if x:
            x, y = float(x), float(y)
            worst = max(worst, abs(x - y) / max(abs(x), abs(y), 1e-12))
print(f"outputs agree: {len(a) - 1} rows, worst relative difference {worst:.2e}")
PY

hyperfine --warmup 3 --runs "${RUNS:-30}" --export-json "$WORK/hyperfine.json" \
  -n promostack "$BIN indicators --csv $WORK/bars_20k.csv > /dev/null 2>&1" \
  -n python-talib "python3 scripts/bench/indicators_talib.py $WORK/bars_20k.csv > /dev/null"
python3 - "$WORK/hyperfine.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
rust, py = r["promostack"]["mean"], r["python-talib"]["mean"]
print(f"promostack {rust*1000:.1f} ms, python+TA-Lib {py*1000:.1f} ms: {py/rust:.1f}x faster")
PY
