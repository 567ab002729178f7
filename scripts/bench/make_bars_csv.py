#!/usr/bin/env python3
"""Write an N-bar OHLC CSV made from EURUSD_H1.csv, for benchmarks (nothing big is committed).

Usage: python3 scripts/bench/make_bars_csv.py [--bars 20000] [--source ../shared/data/EURUSD_H1.csv] OUT

The source rows are repeated as often as needed; each repetition is shifted forward in time by
the source's span plus one hour so timestamps stay strictly increasing. Prices are unchanged.
"""
import argparse
import csv
import datetime as dt
import os

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SOURCE = os.path.join(HERE, "..", "..", "..", "shared", "data", "EURUSD_H1.csv")
FMT = "%Y-%m-%d %H:%M:%S"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--bars", type=int, default=20000)
    ap.add_argument("--source", default=DEFAULT_SOURCE)
    args = ap.parse_args()
    with open(args.source, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    first = dt.datetime.strptime(rows[0][0], FMT)
    last = dt.datetime.strptime(rows[-1][0], FMT)
    shift = last - first + dt.timedelta(hours=1)
    with open(args.out, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        written = copy = 0
        while written < args.bars:
            for row in rows:
                if written == args.bars:
                    break
                t = dt.datetime.strptime(row[0], FMT) + shift * copy
                w.writerow([t.strftime(FMT)] + row[1:])
                written += 1
            copy += 1
    print(f"wrote {args.out}: {args.bars} bars")


if __name__ == "__main__":
    main()
