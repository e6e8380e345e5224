#!/usr/bin/env python3
"""Markdown table of a same-run comparison: BullMQ vs scenergy-queue (see README.md).

Usage: table.py BULLMQ.json OURS.json [BULLMQ_IDLE_RSS.json OURS_IDLE_RSS.json]

Every ratio is oriented so that > 1 means scenergy-queue is better:
higher-is-better metrics use ours/BullMQ, lower-is-better metrics use BullMQ/ours.
"""

import json
import sys


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def main():
    if len(sys.argv) not in (3, 5):
        sys.exit(__doc__)
    bull, ours = load(sys.argv[1]), load(sys.argv[2])
    if len(sys.argv) == 5:
        bull.update(load(sys.argv[3]))
        ours.update(load(sys.argv[4]))

    # (label, key, unit, higher_is_better, decimals)
    rows = [
        ("enqueue throughput (bulk, 1000 per call)", "enqueue_jobs_per_sec", "jobs/s", True, 0),
        ("no-op processing, concurrency 1", "processing_c1_jobs_per_sec", "jobs/s", True, 0),
        ("no-op processing, concurrency 10", "processing_c10_jobs_per_sec", "jobs/s", True, 0),
        ("no-op processing, concurrency 50", "processing_c50_jobs_per_sec", "jobs/s", True, 0),
        ("enqueue→start latency p50 (idle worker)", "latency_p50_ms", "ms", False, 0),
        ("enqueue→start latency p99 (idle worker)", "latency_p99_ms", "ms", False, 0),
        ("commands for 1 enqueue", "cmd_enqueue_1", "cmds", False, 0),
        ("commands per job, lifecycle one at a time", "cmd_lifecycle_one_per_job", "cmds/job", False, 1),
        ("commands per job, lifecycle batched", "cmd_lifecycle_batched_per_job", "cmds/job", False, 1),
        ("idle worker commands per minute (extrapolated)", "idle_commands_per_min", "cmds/min", False, 1),
        ("RSS, fresh idle worker process", "idle_rss_kb", "MiB", False, 1),
        ("RSS, bench process after all runs", "rss_kb", "MiB", False, 1),
    ]

    def fmt(v, unit, dec):
        if v is None:
            return "n/a"
        if unit == "MiB":
            v = v / 1024
        return f"{v:,.{dec}f} {unit}"

    print("| metric | BullMQ | scenergy-queue | ratio (>1 = scenergy-queue better) |")
    print("|---|---:|---:|---:|")
    for label, key, unit, higher, dec in rows:
        b, o = bull.get(key), ours.get(key)
        if b is None or o is None:
            ratio = "n/a"
        else:
            num, den = (o, b) if higher else (b, o)
            how = "ours/BullMQ" if higher else "BullMQ/ours"
            if den == 0:
                ratio = f"n/a ({how}: divisor 0, below 1 ms resolution)" if unit == "ms" else "n/a"
            else:
                ratio = f"{num / den:.2f}× ({how})"
        print(f"| {label} | {fmt(b, unit, dec)} | {fmt(o, unit, dec)} | {ratio} |")


if __name__ == "__main__":
    main()
