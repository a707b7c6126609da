"""Worker benchmark driver (run through scripts/bench.sh, which starts moto and the proxy).

Drains N page.created messages x k images twice against the moto emulator -- once with
image-janitor (the batched worker), once with examples/naive_worker (the seed's way: one
DeleteObject per image, one DeleteMessage per message) -- at the same concurrency, and prints
the figures side by side. AWS requests are counted by the counting proxy (scripts/bench/proxy.py)
that both workers talk to, independently of the worker's own metrics; image-janitor's
janitor_aws_requests_total is shown as a cross-check.

Moto's SQS does work proportional to queue depth for every message sent or received, so the
workload is fed in waves by a feeder that keeps at most --max-visible messages visible while the
worker runs. The feeder, the depth polling and the uploads talk to moto directly (not counted).
"""

import argparse
import concurrent.futures
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import boto3
from botocore.config import Config

REGION = "us-east-1"
PREFIX = "keep-images/"
BUCKET = "bench-keep-images"
QUEUE = "bench-page-created"
DLQ = "bench-page-created-dlq"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode()


def http_post(url, timeout=30):
    req = urllib.request.Request(url, data=b"", method="POST")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.read().decode()


def clients(endpoint):
    cfg = Config(
        region_name=REGION,
        retries={"max_attempts": 10, "mode": "standard"},
        max_pool_connections=32,
        s3={"addressing_style": "path"},
    )
    kw = dict(
        endpoint_url=endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=cfg,
    )
    return boto3.client("sqs", **kw), boto3.client("s3", **kw)


def proc_figures(pid):
    """(peak RSS bytes, current RSS bytes, cpu seconds user+sys) of a live process."""
    hwm = rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) * 1024
            elif line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14, 15)
    return hwm, rss, cpu


def proc_cpu(pid):
    if not pid:
        return 0.0
    try:
        return proc_figures(pid)[2]
    except OSError:
        return 0.0


class Workload:
    def __init__(self, args):
        self.args = args
        self.sqs, self.s3 = clients(args.moto)

    def setup(self):
        dlq_url = self.sqs.create_queue(QueueName=DLQ)["QueueUrl"]
        dlq_arn = self.sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "10"})
        self.queue_url = self.sqs.create_queue(
            QueueName=QUEUE, Attributes={"RedrivePolicy": redrive}
        )["QueueUrl"]
        self.dlq_url = dlq_url
        self.s3.create_bucket(Bucket=BUCKET)

    def key(self, i, j):
        return f"{PREFIX}bench/note-{i:05d}/image-{j}.jpg"

    def upload(self):
        n, k = self.args.n, self.args.k
        keys = [self.key(i, j) for i in range(n) for j in range(k)]
        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            list(
                pool.map(
                    lambda key: self.s3.put_object(Bucket=BUCKET, Key=key, Body=b"\x89PNG fake"),
                    keys,
                )
            )
        log(f"uploaded {len(keys)} objects in {time.monotonic() - t0:.1f}s")

    def body(self, i):
        return json.dumps(
            {
                "type": "page.created",
                "version": 1,
                "page_id": f"page-{i:05d}",
                "note_id": f"note-{i:05d}",
                "images": [
                    {"s3_url": f"s3://{BUCKET}/{self.key(i, j)}"} for j in range(self.args.k)
                ],
                "published_at": "2026-11-26T03:00:00Z",
            }
        )

    def depth(self, url):
        a = self.sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
            ],
        )["Attributes"]
        return int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"])

    def objects_left(self):
        left = 0
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=PREFIX):
            left += page.get("KeyCount", 0)
        return left

    def feed_and_drain(self, timeout):
        """Feed N messages keeping <= max_visible visible; return (seconds, series) at drain."""
        n, cap, poll = self.args.n, self.args.max_visible, self.args.poll
        sent = 0
        series = []
        t0 = time.monotonic()
        last_report = t0
        while True:
            visible, inflight = self.depth(self.queue_url)
            now = time.monotonic() - t0
            series.append((round(now, 2), sent - visible - inflight))
            if sent >= n and visible + inflight == 0:
                return now, series
            if now > timeout:
                raise TimeoutError(
                    f"not drained after {timeout:.0f}s: sent {sent}/{n}, visible {visible}, in flight {inflight}"
                )
            room = min(cap - visible, n - sent)
            while room > 0:
                batch = min(10, room)
                entries = [
                    {"Id": str(x), "MessageBody": self.body(sent + x)} for x in range(batch)
                ]
                out = self.sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
                if out.get("Failed"):
                    raise RuntimeError(f"SendMessageBatch failed: {out['Failed']}")
                sent += batch
                room -= batch
            if time.monotonic() - last_report > 10:
                last_report = time.monotonic()
                done = sent - visible - inflight
                log(f"  t={now:5.1f}s sent {sent}/{n}, drained {done}, visible {visible}, in flight {inflight}")
            time.sleep(poll)


def proxy_counts(proxy):
    return json.loads(http_get(f"{proxy}/__counts")[1])


def scrape_metrics(url):
    """janitor_aws_requests_total{operation,service} and a few counters from /metrics."""
    out = {"aws": {}, "other": {}}
    _, text = http_get(url)
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name_labels, _, value = line.rpartition(" ")
        if name_labels.startswith("janitor_aws_requests_total"):
            labels = dict(
                part.split("=", 1)
                for part in name_labels[name_labels.index("{") + 1 : -1].split(",")
            )
            op = f"{labels['service'].strip(chr(34))} {labels['operation'].strip(chr(34))}"
            out["aws"][op] = float(value)
        elif name_labels.split("{")[0] in (
            "janitor_messages_acked_total",
            "janitor_objects_deleted_total",
            "janitor_messages_retried_total",
            "janitor_messages_dead_lettered_total",
            "janitor_delete_errors_total",
        ):
            out["other"][name_labels] = float(value)
    return out


def run_one(args, label, cmd, env, http_addr=None):
    w = Workload(args)
    http_post(f"{args.moto}/moto-api/reset")
    w.setup()
    w.upload()
    http_post(f"{args.proxy}/__reset")
    env = {k: v.replace("{queue_url}", w.queue_url) for k, v in env.items()}
    env["AWS_ENDPOINT_URL"] = args.proxy
    logpath = os.path.join(args.workdir, f"{label}.log")
    with open(logpath, "w") as logf:
        proc = subprocess.Popen(cmd, env=env, stdout=logf, stderr=subprocess.STDOUT)
    log(f"{label}: started pid {proc.pid} ({' '.join(os.path.basename(c) for c in cmd[:2])}); log {logpath}")
    try:
        deadline = time.monotonic() + 60
        while proxy_counts(args.proxy)["counts"].get("sqs ReceiveMessage", 0) < 1:
            if proc.poll() is not None:
                raise RuntimeError(f"{label} exited with {proc.returncode}; see {logpath}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{label} never called ReceiveMessage; see {logpath}")
            time.sleep(0.05)
        moto_cpu0 = proc_cpu(args.moto_pid)
        proxy_cpu0 = proc_cpu(args.proxy_pid)
        log(f"{label}: receiving; feeding {args.n} messages x {args.k} images")
        seconds, series = w.feed_and_drain(args.timeout)
        hwm, rss, cpu = proc_figures(proc.pid)
        counts = proxy_counts(args.proxy)
        moto_cpu = proc_cpu(args.moto_pid) - moto_cpu0
        proxy_cpu = proc_cpu(args.proxy_pid) - proxy_cpu0
        metrics = scrape_metrics(f"http://{http_addr}/metrics") if http_addr else None
        log(f"{label}: drained in {seconds:.1f}s")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
    left = w.objects_left()
    dlq_visible, dlq_inflight = w.depth(w.dlq_url)
    return {
        "label": label,
        "seconds": seconds,
        "series": series,
        "counts": counts["counts"],
        "upstream_seconds": counts["upstream_seconds"],
        "peak_rss": hwm,
        "rss_at_drain": rss,
        "cpu": cpu,
        "moto_cpu": moto_cpu,
        "proxy_cpu": proxy_cpu,
        "metrics": metrics,
        "exit_code": code,
        "objects_left": left,
        "dlq": dlq_visible + dlq_inflight,
    }


def mib(b):
    return b / (1024 * 1024)


def report(args, ours, seed):
    n, k = args.n, args.k
    floor = 0.2 + k / 1000
    out = []
    p = out.append
    rpm = {}
    for r in (ours, seed):
        r["requests"] = sum(r["counts"].values())
        rpm[r["label"]] = r["requests"] / n
    ops = sorted(set(ours["counts"]) | set(seed["counts"]))
    width = 44
    p("")
    p(f"== Worker benchmark: N={n} messages x k={k} images ({n * k} objects), "
      f"{args.concurrency} receive loops of 10, wait {args.wait}s, <= {args.max_visible} visible")
    p("")
    p(f"{'':<{width}}{'ours (image-janitor)':>22}{'seed (naive_worker)':>22}")

    def row(name, a, b):
        p(f"{name:<{width}}{a:>22}{b:>22}")

    row("wall time to drain", f"{ours['seconds']:.1f} s", f"{seed['seconds']:.1f} s")
    row("throughput", f"{n / ours['seconds']:.1f} msg/s", f"{n / seed['seconds']:.1f} msg/s")
    row("AWS requests (counting proxy)", str(ours["requests"]), str(seed["requests"]))
    for op in ops:
        row(f"  {op}", str(ours["counts"].get(op, 0)), str(seed["counts"].get(op, 0)))
    row("AWS requests per message", f"{rpm['ours']:.3f}", f"{rpm['seed']:.3f}")
    row(f"floor per message (0.2 + {k}/1000)", f"{floor:.3f}", f"{floor:.3f}")
    row("ratio to floor", f"{rpm['ours'] / floor:.2f}x", f"{rpm['seed'] / floor:.1f}x")
    if ours["metrics"] is not None:
        own = sum(ours["metrics"]["aws"].values())
        row("worker's own janitor_aws_requests_total", f"{own:.0f}", "-")
    row("peak RSS (VmHWM)", f"{mib(ours['peak_rss']):.1f} MiB", f"{mib(seed['peak_rss']):.1f} MiB")
    row("CPU user+sys (worker process)", f"{ours['cpu']:.2f} s", f"{seed['cpu']:.2f} s")
    row("CPU per 1000 messages", f"{ours['cpu'] * 1000 / n:.2f} s", f"{seed['cpu'] * 1000 / n:.2f} s")
    row("moto CPU during the drain", f"{ours['moto_cpu']:.1f} s ({ours['moto_cpu'] / ours['seconds']:.0%})",
        f"{seed['moto_cpu']:.1f} s ({seed['moto_cpu'] / seed['seconds']:.0%})")
    row("objects left / DLQ messages", f"{ours['objects_left']} / {ours['dlq']}", f"{seed['objects_left']} / {seed['dlq']}")
    row("exit code after SIGTERM", str(ours["exit_code"]), str(seed["exit_code"]))
    p("")
    p("Mean emulator latency per operation (time the proxy waited for moto):")
    for r in (ours, seed):
        parts = [
            f"{op} {1000 * r['upstream_seconds'].get(op, 0) / c:.0f} ms"
            for op, c in sorted(r["counts"].items())
            if c
        ]
        p(f"  {r['label']}: " + ", ".join(parts))
    if ours["metrics"] is not None:
        p("")
        p("Cross-check, per operation: proxy count vs the worker's janitor_aws_requests_total")
        mine = ours["metrics"]["aws"]
        for op in sorted(set(mine) | set(ours["counts"])):
            c, m = ours["counts"].get(op, 0), mine.get(op, 0)
            note = "" if c == m else "   (differs: SDK retries or calls in flight at the snapshot)"
            p(f"  {op:<36}{c:>8}{m:>10.0f}{note}")
        for name, v in sorted(ours["metrics"]["other"].items()):
            p(f"  {name} {v:.0f}")
    p("")
    goal_rpm = rpm["ours"] / floor
    goal_drain = seed["seconds"] / ours["seconds"]
    goal_rss = mib(ours["peak_rss"])
    verdict = lambda ok: "met" if ok else "NOT MET"  # noqa: E731
    p("Ratios and goals:")
    p(f"  requests/message, ours vs floor   {goal_rpm:6.2f}x   goal <= 1.5x  {verdict(goal_rpm <= 1.5)}")
    p(f"  requests/message, seed vs ours    {rpm['seed'] / rpm['ours']:6.1f}x")
    p(f"  drain time, seed / ours           {goal_drain:6.1f}x   goal >= 8x    {verdict(goal_drain >= 8)}")
    p(f"  peak RSS, ours                    {goal_rss:6.1f} MiB goal <= 32 MiB {verdict(goal_rss <= 32)}")
    p(f"  CPU, seed / ours                  {seed['cpu'] / max(ours['cpu'], 1e-9):6.1f}x")
    return "\n".join(out), {
        "rpm_ours": rpm["ours"],
        "rpm_seed": rpm["seed"],
        "floor": floor,
        "ratio_floor": goal_rpm,
        "drain_ratio": goal_drain,
    }


def svg_chart(path, args, ours, seed):
    """Messages drained over time, both workers, as a small hand-written SVG."""
    w, h, ml, mr, mt, mb = 640, 360, 60, 20, 40, 45
    tmax = max(ours["seconds"], seed["seconds"]) * 1.02
    n = args.n

    def xy(t, d):
        x = ml + (w - ml - mr) * t / tmax
        y = h - mb - (h - mt - mb) * max(d, 0) / n
        return f"{x:.1f},{y:.1f}"

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
        'font-family="sans-serif" font-size="12">',
        f'<rect width="{w}" height="{h}" fill="white"/>',
        f'<text x="{w / 2}" y="22" text-anchor="middle" font-size="14">Messages drained over time '
        f"(N={n}, k={args.k}, moto {args.moto_version})</text>",
        f'<line x1="{ml}" y1="{h - mb}" x2="{w - mr}" y2="{h - mb}" stroke="black"/>',
        f'<line x1="{ml}" y1="{mt}" x2="{ml}" y2="{h - mb}" stroke="black"/>',
    ]
    for i in range(6):
        t = tmax * i / 5
        x = ml + (w - ml - mr) * i / 5
        parts.append(f'<text x="{x:.1f}" y="{h - mb + 16}" text-anchor="middle">{t:.0f}</text>')
        d = n * i / 5
        y = h - mb - (h - mt - mb) * i / 5
        parts.append(f'<text x="{ml - 6}" y="{y + 4:.1f}" text-anchor="end">{d:.0f}</text>')
        parts.append(f'<line x1="{ml}" y1="{y:.1f}" x2="{w - mr}" y2="{y:.1f}" stroke="#ddd"/>')
    parts.append(f'<text x="{(w + ml) / 2}" y="{h - 8}" text-anchor="middle">seconds</text>')
    for r, colour, name in ((ours, "#1f77b4", "image-janitor"), (seed, "#d62728", "seed (naive)")):
        pts = " ".join(xy(t, d) for t, d in r["series"])
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{pts}"/>')
    parts.append(f'<text x="{ml + 10}" y="{mt + 14}" fill="#1f77b4">image-janitor: {ours["seconds"]:.0f} s, '
                 f'{sum(ours["counts"].values()) / n:.3f} requests/message</text>')
    parts.append(f'<text x="{ml + 10}" y="{mt + 30}" fill="#d62728">seed (naive): {seed["seconds"]:.0f} s, '
                 f'{sum(seed["counts"].values()) / n:.3f} requests/message</text>')
    parts.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(parts) + "\n")


def main():
    ap = argparse.ArgumentParser(description="image-janitor worker benchmark (see scripts/bench.sh)")
    ap.add_argument("--moto", required=True, help="moto endpoint (feeder, uploads, depth polls)")
    ap.add_argument("--moto-pid", type=int, default=0)
    ap.add_argument("--moto-version", default="?")
    ap.add_argument("--proxy", required=True, help="counting proxy endpoint (the workers' AWS endpoint)")
    ap.add_argument("--proxy-pid", type=int, default=0)
    ap.add_argument("--janitor", required=True, help="image-janitor binary")
    ap.add_argument("--naive", required=True, help="naive_worker binary")
    ap.add_argument("-n", "--n", type=int, default=1000)
    ap.add_argument("-k", "--k", type=int, default=5)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--wait", type=int, default=20, help="long-poll seconds, both workers")
    ap.add_argument("--max-visible", type=int, default=100)
    ap.add_argument("--poll", type=float, default=0.2, help="feeder's depth poll interval, seconds")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--only", choices=["ours", "seed"], help="run one side only")
    ap.add_argument("--workdir", default=".cache/bench")
    ap.add_argument("--json-out")
    ap.add_argument("--svg-out")
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)

    base_env = {
        k: v for k, v in os.environ.items() if not k.startswith(("JANITOR_", "AWS_", "NAIVE_"))
    }
    base_env.update(
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_REGION=REGION,
        AWS_EC2_METADATA_DISABLED="true",
    )
    results = {}
    if args.only != "seed":
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        http_addr = f"127.0.0.1:{s.getsockname()[1]}"
        s.close()
        env = dict(
            base_env,
            JANITOR_QUEUE_URL="{queue_url}",
            JANITOR_BUCKETS=BUCKET,
            JANITOR_PREFIX=PREFIX,
            JANITOR_S3_FORCE_PATH_STYLE="true",
            JANITOR_CONCURRENCY=str(args.concurrency),
            JANITOR_WAIT_TIME=f"{args.wait}s",
            JANITOR_HTTP_ADDR=http_addr,
            JANITOR_SWEEP_INTERVAL="0",
            JANITOR_LOG_FORMAT="text",
            JANITOR_AUDIT="off",
            RUST_LOG="warn",
        )
        results["ours"] = run_one(args, "ours", [args.janitor, "run"], env, http_addr)
    if args.only != "ours":
        env = dict(
            base_env,
            NAIVE_QUEUE_URL="{queue_url}",
            NAIVE_CONCURRENCY=str(args.concurrency),
            NAIVE_WAIT_SECONDS=str(args.wait),
        )
        results["seed"] = run_one(args, "seed", [args.naive], env)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"args": vars(args), "results": results}, f, indent=1)
    if len(results) == 2:
        text, _ = report(args, results["ours"], results["seed"])
        print(text, flush=True)
        if args.svg_out:
            svg_chart(args.svg_out, args, results["ours"], results["seed"])
            log(f"chart written to {args.svg_out}")
    else:
        r = next(iter(results.values()))
        reqs = sum(r["counts"].values())
        print(json.dumps({k: v for k, v in r.items() if k != "series"}, indent=1))
        print(f"{r['label']}: {r['seconds']:.1f}s, {reqs} requests, {reqs / args.n:.3f}/message")


if __name__ == "__main__":
    main()
