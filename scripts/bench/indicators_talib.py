#!/usr/bin/env python3
"""The Python/TA-Lib counterpart of `promostack indicators --csv FILE`, for the speed comparison
in docs/performance.md: read the CSV, compute the same 16 columns with TA-Lib, write CSV to
stdout with empty cells during warm-up. Uses the csv module and numpy (no pandas: importing it
alone costs more than our whole run, which would flatter the comparison).

Usage: python3 scripts/bench/indicators_talib.py FILE > out.csv   (pip install ta-lib numpy)
"""
import csv
import math
import sys

import numpy as np
import talib


def main() -> None:
    with open(sys.argv[1], newline="") as f:
        reader = csv.reader(f)
        header = [h.strip().lower() for h in next(reader)]
        cols = [header.index(k) for k in ("open", "high", "low", "close")]
        tcol = next((header.index(k) for k in ("time", "date", "datetime", "timestamp") if k in header), 0)
        times, ohlc = [], []
        for rec in reader:
            times.append(rec[tcol])
            ohlc.append([float(rec[c]) for c in cols])
    a = np.array(ohlc, dtype=np.float64)
    h, l, c = a[:, 1], a[:, 2], a[:, 3]
    macd, macd_signal, macd_hist = talib.MACD(c, 12, 26, 9)
    bb_upper, bb_middle, bb_lower = talib.BBANDS(c, 20, 2.0, 2.0, 0)
    stoch_k, stoch_d = talib.STOCH(h, l, c, 14, 3, 0, 3, 0)
    out = [
        ("ema_20", talib.EMA(c, 20)),
        ("ema_50", talib.EMA(c, 50)),
        ("ema_200", talib.EMA(c, 200)),
        ("rsi_14", talib.RSI(c, 14)),
        ("macd", macd),
        ("macd_signal", macd_signal),
        ("macd_hist", macd_hist),
        ("adx_14", talib.ADX(h, l, c, 14)),
        ("plus_di_14", talib.PLUS_DI(h, l, c, 14)),
        ("minus_di_14", talib.MINUS_DI(h, l, c, 14)),
        ("bb_upper", bb_upper),
        ("bb_middle", bb_middle),
        ("bb_lower", bb_lower),
        ("stoch_k", stoch_k),
        ("stoch_d", stoch_d),
        ("atr_14", talib.ATR(h, l, c, 14)),
    ]
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(["time"] + [name for name, _ in out])
    columns = [col.tolist() for _, col in out]
    for i, t in enumerate(times):
        w.writerow([t] + ["" if math.isnan(col[i]) else repr(col[i]) for col in columns])


if __name__ == "__main__":
    main()
