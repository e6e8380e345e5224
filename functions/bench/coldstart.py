#!/usr/bin/env python3
"""Cold start of the three functions: process start to first answered request, and RSS.

Each function binary is started N times in local mode (PORT) against the local Upstash REST
gateway; the clock runs from spawn until the first HTTP answer arrives. The first request is
a real one that reaches Redis where the function has such a path (status: GET of an unknown
job → 404 after a Redis read; enqueue and analyze: an empty body → 415 before Redis). RSS is
read from /proc after that answer. The baseline, measured in the same run, is a minimal
Node.js HTTP server (the runtime the published Lambda numbers compare Rust against) started
the same way. Prints a Markdown table.
"""

import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def first_answer(cmd, env, request, deadline_s=10.0):
    port = free_port()
    env = dict(env, PORT=str(port), HOST="127.0.0.1")
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            if time.perf_counter() - started > deadline_s:
                raise RuntimeError(f"{cmd[0]} did not answer within {deadline_s}s")
            try:
                req = request(port)
                try:
                    urllib.request.urlopen(req, timeout=2)
                except urllib.error.HTTPError:
                    pass  # any HTTP answer counts: the server is up and answering
                elapsed_ms = (time.perf_counter() - started) * 1000
                return elapsed_ms, rss_mib(proc.pid)
            except (ConnectionRefusedError, urllib.error.URLError, ConnectionResetError):
                time.sleep(0.0005)
    finally:
        proc.kill()
        proc.wait()


def main():
    bin_dir, gateway_url, gateway_token, token, runs = sys.argv[1:6]
    runs = int(runs)
    base_env = {
        "PATH": os.environ["PATH"],
        "AUTH_JWT_SECRET": os.environ["AUTH_JWT_SECRET"],
        "UPSTASH_REDIS_REST_URL": gateway_url,
        "UPSTASH_REDIS_REST_TOKEN": gateway_token,
        "WAKE_TRANSPORT": "none",
        "RUST_LOG": "warn",
    }

    def status_req(port):
        return urllib.request.Request(
            f"http://127.0.0.1:{port}/api/jobs/images_00000000000000000000000000",
            headers={"Authorization": f"Bearer {token}"},
        )

    def post_req(path):
        def make(port):
            return urllib.request.Request(
                f"http://127.0.0.1:{port}{path}", data=b"", method="POST",
                headers={"Authorization": f"Bearer {token}"},
            )
        return make

    node_server = (
        "require('http').createServer((q,s)=>{s.writeHead(401,{'content-type':'application/json'});"
        "s.end('{}')}).listen(+process.env.PORT,'127.0.0.1')"
    )
    subjects = [
        ("status", [f"{bin_dir}/status"], status_req),
        ("enqueue", [f"{bin_dir}/enqueue"], post_req("/api/jobs")),
        ("analyze", [f"{bin_dir}/analyze"], post_req("/api/analyze")),
        ("baseline: Node.js http server", ["node", "-e", node_server], post_req("/")),
    ]
    rows = []
    for name, cmd, request in subjects:
        times, rss = [], []
        first_answer(cmd, base_env, request)  # warm the page cache; not counted
        for _ in range(runs):
            t, r = first_answer(cmd, base_env, request)
            times.append(t)
            rss.append(r)
        size = os.path.getsize(cmd[0]) / 2**20 if os.path.exists(cmd[0]) else None
        rows.append((name, size, statistics.median(times), sorted(times)[int(0.9 * (runs - 1))],
                     statistics.median(rss)))
    node = rows[-1]
    print(f"{runs} starts each; start → first answered request, median and p90; RSS after it\n")
    print("| process | binary | start→first answer p50 | p90 | RSS | start ratio (Node/ours) | RSS ratio (Node/ours) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, size, p50, p90, rss in rows:
        size_s = f"{size:.1f} MiB" if size is not None else "–"
        ratio = "1.00×" if name.startswith("baseline") else f"{node[2] / p50:.2f}×"
        rss_ratio = "1.00×" if name.startswith("baseline") else f"{node[4] / rss:.2f}×"
        print(f"| {name} | {size_s} | {p50:.1f} ms | {p90:.1f} ms | {rss:.1f} MiB | {ratio} | {rss_ratio} |")
    print()
    print(json.dumps({r[0]: {"p50_ms": round(r[2], 2), "p90_ms": round(r[3], 2), "rss_mib": round(r[4], 2)} for r in rows}))


if __name__ == "__main__":
    main()
