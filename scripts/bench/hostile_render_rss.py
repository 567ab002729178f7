#!/usr/bin/env python3
"""Peak RSS of the promostack server under bursts of hostile renders (issue 15, item 1).

Starts the binary (argv[1], default target/release/promostack) with demo data, logs in, then
fires BURST concurrent `POST /api/render` requests on the demo template `black-friday`, three
ways, each logo unique per request so no cache can answer:

  bomb     a complete 140 KB PNG that declares 6000x6000 (36 MP of zeros): the issue's attack
  large    a real 2048x2048 logo (4 MP, the largest a logo may be)
  small    a 256x256 logo

and reports the answers by status and the server's VmHWM (peak RSS) and VmRSS 5 s after the
last burst, from /proc/PID/status. Standard library only.

    python3 scripts/bench/hostile_render_rss.py [BINARY] [BURST]
"""
import base64
import concurrent.futures
import http.cookiejar
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zlib

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/release/promostack"
BURST = int(sys.argv[2]) if len(sys.argv) > 2 else 64
PASSWORD = "bench-hostile-render-password"


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def zeros_rows(width, height):
    return b"\x00" * (height * (1 + 4 * width))


def pattern_rows(width, height):
    row = b"\x00" + bytes((x * 7) & 0xFF for x in range(4 * width))
    return row * height


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return int(fields["VmHWM"].split()[0]) // 1024, int(fields["VmRSS"].split()[0]) // 1024


def main():
    port = free_port()
    data_dir = tempfile.mkdtemp(prefix="hostile-render-")
    env = {"PATH": os.environ.get("PATH", ""), "PORT": str(port), "BIND": "127.0.0.1",
           "DATA_DIR": data_dir, "ADMIN_PASSWORD": PASSWORD, "DEMO_DATA": "true", "RUST_LOG": "warn"}
    server = subprocess.Popen([BIN], env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if urllib.request.urlopen(base + "/readyz", timeout=2).status == 200:
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            time.sleep(0.1)
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

        def post(path, body):
            req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                         headers={"content-type": "application/json", "origin": base})
            try:
                with opener.open(req, timeout=120) as r:
                    r.read()
                    return r.status
            except urllib.error.HTTPError as e:
                e.read()
                return e.code

        assert post("/api/login", {"password": PASSWORD}) == 200, "login"
        baseline = rss(server.pid)
        print(f"binary {BIN}, burst {BURST}, baseline VmRSS {baseline[1]} MiB")
        print(f"{'attack':8} {'logo':>12} {'bytes':>9} {'answers':30} {'wall s':>7} {'VmHWM MiB':>10}")
        kinds = [
            ("bomb", 6000, 6000, zeros_rows(6000, 6000)),
            ("large", 2048, 2048, pattern_rows(2048, 2048)),
            ("small", 256, 256, pattern_rows(256, 256)),
        ]
        for name, w, h, rows in kinds:
            compressed = zlib.compress(rows, 9)
            del rows
            logos = []
            for i in range(BURST):
                ihdr = struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)
                data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                        + chunk(b"tEXt", f"nonce\x00{name}-{i}-{time.time_ns()}".encode())
                        + chunk(b"IDAT", compressed) + chunk(b"IEND", b""))
                logos.append(base64.b64encode(data).decode())
            started = time.time()
            with concurrent.futures.ThreadPoolExecutor(BURST) as pool:
                statuses = list(pool.map(lambda i: post("/api/render", {
                    "template": "black-friday", "variant": "portrait", "code": "WELCOME20",
                    "format": "jpeg", "logo": logos[i]}), range(BURST)))
            took = time.time() - started
            counts = {}
            for s in statuses:
                counts[s] = counts.get(s, 0) + 1
            answers = ", ".join(f"{n}x{s}" for s, n in sorted(counts.items()))
            peak, _ = rss(server.pid)
            print(f"{name:8} {f'{w}x{h}':>12} {len(logos[0]) * 3 // 4:>9} {answers:30} {took:7.1f} {peak:10}")
        time.sleep(5)
        peak, now = rss(server.pid)
        print(f"after the bursts: VmHWM {peak} MiB, VmRSS 5 s later {now} MiB")
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
