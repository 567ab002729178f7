#!/usr/bin/env python3
"""Compare PromoStack's PNG sizes with Pillow's default PNG encoder on identical pixels.

Runs the render crate's `dump_renders` example (demo square templates with logo), then saves each
raw RGB buffer with Pillow at its default settings (zlib level 6) and prints the size ratio.
Contract (docs/performance.md, "Rendering"): ours <= 1.3 x Pillow's.

Usage: scripts/bench/render_png_vs_pillow.py [COUNT]   (needs `pip install pillow`)
"""
import io
import os
import subprocess
import sys
import tempfile

from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LIMIT = 1.3


def main() -> int:
    count = sys.argv[1] if len(sys.argv) > 1 else "20"
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(
            ["cargo", "run", "-q", "--release", "-p", "promostack-render", "--example", "dump_renders", "--", out, count],
            cwd=ROOT,
            check=True,
        )
        width, height, _channels = (int(v) for v in open(os.path.join(out, "size.txt")).read().split())
        rows = []
        for name in sorted(f for f in os.listdir(out) if f.endswith(".rgb")):
            raw = open(os.path.join(out, name), "rb").read()
            ours = os.path.getsize(os.path.join(out, name[:-4] + ".png"))
            # Our PNG must hold exactly these pixels.
            decoded = Image.open(os.path.join(out, name[:-4] + ".png")).convert("RGB").tobytes()
            if decoded != raw:
                print(f"{name}: our PNG does not decode to the rendered pixels", file=sys.stderr)
                return 1
            buf = io.BytesIO()
            Image.frombytes("RGB", (width, height), raw).save(buf, format="PNG")
            rows.append((name[:-4], ours, buf.tell()))
    worst = max(o / p for _, o, p in rows)
    by_template = {}
    for name, ours, pillow in rows:
        by_template.setdefault(name.rsplit("-", 1)[0], []).append((ours, pillow))
    print(f"{'template':<16} {'ours (KiB)':>11} {'Pillow (KiB)':>13} {'ratio':>6}")
    for template, pairs in by_template.items():
        ours = sum(o for o, _ in pairs) / len(pairs) / 1024
        pillow = sum(p for _, p in pairs) / len(pairs) / 1024
        print(f"{template:<16} {ours:>11.1f} {pillow:>13.1f} {ours / pillow:>6.3f}")
    print(f"worst ratio over {len(rows)} images: {worst:.3f} (limit {LIMIT})")
    return 0 if worst <= LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())
