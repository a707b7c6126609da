"""Per-wave timelines from a benchmark's JSON (``scripts/bench.sh --json F``; default
``.cache/bench/results.json``): where each worker's drain time goes.

For every worker and wave (resume -> the wave's last acknowledgement) it sums:

* **busy**: time during which at least one request other than a long poll was at the
  emulator (long polls wait for messages; they are not the emulator's work);
* **idle**: the rest of the wave: the worker had nothing at the emulator, i.e. it was
  waiting on itself (a timer, a hand-over, its own scheduling) or on a long poll;
* requests by operation, their mean round trip and what they carried.

``--wave N`` also prints that wave's requests one by one (ms from the resume).

    .venv/bin/python scripts/bench/trace.py [.cache/bench/results.json] [--wave 3]
"""

import argparse
import json
from collections import defaultdict

SHORT = {
    "sqs ReceiveMessage": "recv",
    "sqs DeleteMessageBatch": "ack",
    "s3 DeleteObjects": "delobj",
    "sqs GetQueueAttributes": "attrs",
    "sqs GetQueueUrl": "url",
}


def union(intervals):
    total, end = 0.0, None
    for a, b in sorted(intervals):
        if end is None or a > end:
            total += b - a
            end = b
        elif b > end:
            total += b - end
            end = b
    return total


def wave_rows(trace, t0, secs):
    t1 = t0 + secs
    return [r for r in trace if r[1] > t0 and r[0] < t1 + 0.001]


def summarize(trace, t0, secs):
    t1 = t0 + secs
    rows = wave_rows(trace, t0, secs)
    work = [
        (max(a, t0), min(b, t1))
        for a, b, op, size in rows
        if not (op == "sqs ReceiveMessage" and size < 0)
    ]
    busy = union(work)
    ops = defaultdict(lambda: [0, 0.0, 0])
    for a, b, op, size in rows:
        o = ops[SHORT.get(op, op)]
        o[0] += 1
        o[1] += b - a
        o[2] += abs(size) - 1 if size < 0 else size
    return busy, ops


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("json", nargs="?", default=".cache/bench/results.json")
    ap.add_argument("--wave", type=int, help="print this wave's requests (1-based)")
    ap.add_argument("--only", help="comma-separated workers")
    args = ap.parse_args()
    with open(args.json) as f:
        results = json.load(f)["results"]
    for label, r in results.items():
        if args.only and label not in args.only.split(","):
            continue
        trace = r.get("trace")
        if not trace:
            print(f"{label}: no trace (a proxy without /__trace)")
            continue
        total_busy, total = 0.0, 0.0
        agg = defaultdict(lambda: [0, 0.0, 0])
        print(f"== {label}: drain {r['drain']:.2f} s over {len(r['waves'])} waves")
        print("wave  drain_ms  busy_ms  idle_ms  requests (count/mean ms/carried)")
        for i, (t0, secs) in enumerate(r["waves"], 1):
            busy, ops = summarize(trace, t0, secs)
            total_busy += busy
            total += secs
            for k, (n, s, c) in ops.items():
                agg[k][0] += n
                agg[k][1] += s
                agg[k][2] += c
            desc = "  ".join(
                f"{k} {n}/{1000 * s / n:.0f}/{c}" for k, (n, s, c) in sorted(ops.items())
            )
            print(f"{i:4d}  {1000 * secs:8.0f}  {1000 * busy:7.0f}  {1000 * (secs - busy):7.0f}  {desc}")
        desc = "  ".join(
            f"{k} {n}/{1000 * s / n:.0f}/{c}" for k, (n, s, c) in sorted(agg.items())
        )
        print(f"total {1000 * total:8.0f}  {1000 * total_busy:7.0f}  {1000 * (total - total_busy):7.0f}  {desc}")
        if args.wave and args.wave <= len(r["waves"]):
            t0, secs = r["waves"][args.wave - 1]
            print(f"-- wave {args.wave} of {label}: ms from resume")
            for a, b, op, size in sorted(wave_rows(trace, t0, secs)):
                kind = SHORT.get(op, op)
                if op == "sqs ReceiveMessage":
                    kind = ("long" if size < 0 else "probe") + f" -> {abs(size) - 1 if size < 0 else size}"
                else:
                    kind = f"{kind} {size}"
                print(f"  {1000 * (a - t0):7.0f} .. {1000 * (b - t0):7.0f}  {kind}")
        print()


if __name__ == "__main__":
    main()
