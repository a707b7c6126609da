"""Worker benchmark driver (run through scripts/bench.sh, which starts moto and the proxy).

Drains the same workload -- N page.created messages x k images -- with each worker in turn
against one moto emulator, in one invocation, and prints the figures side by side (report.py):

* ours: image-janitor (release build);
* before (optional, --before BIN): image-janitor built from another commit, for before/after;
* per-receive: examples/per_receive_worker.rs, receive 10 -> one DeleteObjects -> one
  DeleteMessageBatch, 4 loops (the simple batcher to beat);
* sqs-only: examples/sqs_only_worker.rs, receive 10 -> DeleteMessageBatch, no S3 (the
  emulator's ceiling for any consumer);
* seed: examples/naive_worker.rs, one DeleteObject per image and one DeleteMessage per message.

AWS requests are counted by the counting proxy (scripts/bench/proxy.py) that every worker talks
to; it also timestamps every message's acknowledgement, which gives drain times and latencies
without polling moto. image-janitor's janitor_aws_requests_total is shown as a cross-check.

Feeding (moto's SQS does work proportional to queue depth, so queues stay shallow):
* waves (default): the worker is paused (SIGSTOP) while a wave of <= --max-visible messages is
  sent, then resumed; the wave's drain time runs from the resume to its last acknowledgement.
  Drain time = the sum over waves: the feeder's own sends are excluded, and every worker gets
  exactly the same waves.
* --backlog: all N queued before the worker starts; drain from its first receive.
* --latency: light load, one message every 1/--rate s for --duration s (SendMessage); per message
  publish (SendMessage returned) -> acknowledgement (moto answered the delete), p50/p99.
The feeder, the uploads and the final depth checks talk to moto directly (not counted).
"""

import argparse
import concurrent.futures
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import boto3
from botocore.config import Config

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402  (a sibling script, not a package)

mib = report.mib  # re-exported for scripts/bench/scaling.py

REGION = "us-east-1"
PREFIX = "keep-images/"
BUCKET = "bench-keep-images"
QUEUE = "bench-page-created"
DLQ = "bench-page-created-dlq"
CLK_TCK = os.sysconf("SC_CLK_TCK")
# In the order they run; "before" only with --before.
WORKERS = ("ours", "before", "per-receive", "sqs-only", "seed")


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

    def send(self, first, count):
        ids = []
        for start in range(first, first + count, 10):
            batch = min(10, first + count - start)
            entries = [{"Id": str(x), "MessageBody": self.body(start + x)} for x in range(batch)]
            out = self.sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            if out.get("Failed"):
                raise RuntimeError(f"SendMessageBatch failed: {out['Failed']}")
            ids += [e["MessageId"] for e in out.get("Successful", [])]
        return ids

    def drain_waves(self, pid, proxy, timeout):
        """Waves of <= max_visible: worker paused while a wave is sent, timed from its resume to
        the wave's last acknowledgement. Returns (drain seconds, wall seconds, waves), waves as
        (resume unix time, seconds)."""
        n, cap = self.args.n, self.args.max_visible
        sent, drain, waves = 0, 0.0, []
        t_start = time.monotonic()
        while sent < n:
            count = min(cap, n - sent)
            os.kill(pid, signal.SIGSTOP)
            try:
                self.send(sent, count)
            finally:
                os.kill(pid, signal.SIGCONT)
            t0, t0_wall = time.monotonic(), time.time()
            sent += count
            proxy_wait(proxy, sent, timeout)
            waves.append((t0_wall, time.monotonic() - t0))
            drain += waves[-1][1]
        return drain, time.monotonic() - t_start, waves

    def light_load(self, rate, duration):
        """One SendMessage every 1/rate s for duration s; {message id: unix time it returned}."""
        sent = {}
        step = 1.0 / rate
        t_next = time.monotonic()
        for i in range(int(rate * duration)):
            pause = t_next - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            out = self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=self.body(i))
            sent[out["MessageId"]] = time.time()
            t_next += step
        return sent

    def preload(self):
        """--backlog: the whole workload queued before the worker starts."""
        t0 = time.monotonic()
        self.send(0, self.args.n)
        log(f"preloaded {self.args.n} messages in {time.monotonic() - t0:.1f}s")

    def feed_and_drain(self, timeout, sent=0):
        """Feed N messages keeping <= max_visible visible; return (seconds, series) at drain.

        series: (t, drained, visible, in flight) samples, one per depth poll."""
        n, cap, poll = self.args.n, self.args.max_visible, self.args.poll
        series = []
        t0 = time.monotonic()
        last_report = t0
        while True:
            visible, inflight = self.depth(self.queue_url)
            now = time.monotonic() - t0
            series.append((round(now, 2), sent - visible - inflight, visible, inflight))
            if sent >= n and visible + inflight == 0:
                return now, series
            if now > timeout:
                raise TimeoutError(
                    f"not drained after {timeout:.0f}s: sent {sent}/{n}, visible {visible}, in flight {inflight}"
                )
            room = min(cap - visible, n - sent)
            if room > 0:
                self.send(sent, room)
                sent += room
            if time.monotonic() - last_report > 10:
                last_report = time.monotonic()
                done = sent - visible - inflight
                log(f"  t={now:5.1f}s sent {sent}/{n}, drained {done}, visible {visible}, in flight {inflight}")
            time.sleep(poll)


def stall_seconds(series, n, min_gap=5.0):
    """Time spent with every message sent, none visible, some in flight and no progress for at
    least min_gap seconds: a message stuck invisible until its visibility timeout ran out. Seen
    with moto 5.2.5, whose SQS loses a delete now and then under concurrent requests (a delete
    racing another delete or a send rebuilds the message list from a stale copy); the message
    then reappears after the visibility timeout and is processed a second time."""
    total, start = 0.0, None
    for (t0, d0, _v0, _i0), (t1, d1, v1, i1) in zip(series, series[1:]):
        stuck = d1 == d0 and v1 == 0 and i1 > 0 and d0 + i1 >= n
        if stuck:
            start = t0 if start is None else start
        elif start is not None:
            total += t0 - start if t0 - start >= min_gap else 0.0
            start = None
    return total


def proxy_counts(proxy):
    return json.loads(http_get(f"{proxy}/__counts")[1])


def proxy_acks(proxy):
    return json.loads(http_get(f"{proxy}/__acks", timeout=30)[1])["acks"]


def proxy_wait(proxy, n, timeout):
    """Block until the proxy has seen n distinct messages acknowledged."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        got = json.loads(http_get(f"{proxy}/__wait?n={n}&timeout={min(max(left, 0), 20):.1f}",
                                  timeout=40)[1])["acked"]
        if got >= n:
            return got
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {got} of {n} messages acknowledged after {timeout:.0f}s")


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
            "janitor_messages_received_total",
            "janitor_messages_acked_total",
            "janitor_objects_deleted_total",
            "janitor_messages_retried_total",
            "janitor_messages_dead_lettered_total",
            "janitor_delete_errors_total",
        ):
            out["other"][name_labels] = float(value)
    return out




def drain_series(acks, waves):
    """(drain-clock seconds, messages acknowledged) from ack times and wave resume times."""
    starts = []
    clock = 0.0
    for t0, secs in waves:
        starts.append((t0, clock))
        clock += secs
    points = []
    for t in sorted(acks.values()):
        base = max((s for s in starts if s[0] <= t), default=starts[0], key=lambda s: s[0])
        points.append(round(base[1] + max(t - base[0], 0.0), 3))
    return [(x, i + 1) for i, x in enumerate(points)]


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def run_one(args, label, cmd, env, http_addr=None, needs_objects=True):
    w = Workload(args)
    http_post(f"{args.moto}/moto-api/reset")
    w.setup()
    if needs_objects:
        w.upload()
    if args.backlog:
        w.preload()
    http_post(f"{args.proxy}/__reset")
    env = {k: v.replace("{queue_url}", w.queue_url) for k, v in env.items()}
    env["AWS_ENDPOINT_URL"] = args.proxy
    logpath = os.path.join(args.workdir, f"{label}.log")
    with open(logpath, "w") as logf:
        proc = subprocess.Popen(cmd, env=env, stdout=logf, stderr=subprocess.STDOUT)
    log(f"{label}: started pid {proc.pid} ({os.path.basename(cmd[0])}); log {logpath}")
    result = {"label": label}
    try:
        deadline = time.monotonic() + 60
        while proxy_counts(args.proxy)["counts"].get("sqs ReceiveMessage", 0) < 1:
            if proc.poll() is not None:
                raise RuntimeError(f"{label} exited with {proc.returncode}; see {logpath}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{label} never called ReceiveMessage; see {logpath}")
            time.sleep(0.05)
        moto_cpu0 = proc_cpu(args.moto_pid)
        t0, t0_wall = time.monotonic(), time.time()
        if args.latency:
            log(f"{label}: light load, {args.rate} msg/s for {args.duration}s, k={args.k}")
            sent = w.light_load(args.rate, args.duration)
            proxy_wait(args.proxy, len(sent), args.timeout)
            acks = proxy_acks(args.proxy)
            lat = [acks[m] - t for m, t in sent.items() if m in acks]
            result.update(latencies=lat, drain=time.monotonic() - t0, wall=time.monotonic() - t0,
                          waves=[(t0_wall, time.monotonic() - t0)])
        elif args.backlog:
            log(f"{label}: receiving; draining a backlog of {args.n} x {args.k} images")
            proxy_wait(args.proxy, args.n, args.timeout)
            secs = time.monotonic() - t0
            result.update(drain=secs, wall=secs, waves=[(t0_wall, secs)])
        else:
            log(f"{label}: feeding {args.n} messages x {args.k} images in waves of {args.max_visible}")
            drain, wall, waves = w.drain_waves(proc.pid, args.proxy, args.timeout)
            result.update(drain=drain, wall=wall, waves=waves)
        hwm, rss, cpu = proc_figures(proc.pid)
        counts = proxy_counts(args.proxy)
        result["acks"] = proxy_acks(args.proxy)
        result["trace"] = json.loads(http_get(f"{args.proxy}/__trace", timeout=30)[1])["trace"]
        moto_cpu = proc_cpu(args.moto_pid) - moto_cpu0
        metrics = scrape_metrics(f"http://{http_addr}/metrics") if http_addr else None
        log(f"{label}: drained in {result['drain']:.2f}s")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
    visible, inflight = w.depth(w.queue_url)
    dlq_visible, dlq_inflight = w.depth(w.dlq_url)
    result.update(
        counts=counts["counts"],
        upstream_seconds=counts["upstream_seconds"],
        receives=counts.get("receives", {}),
        requests=sum(counts["counts"].values()),
        peak_rss=hwm,
        rss_at_drain=rss,
        cpu=cpu,
        moto_cpu=moto_cpu,
        metrics=metrics,
        exit_code=code,
        objects_left=w.objects_left() if needs_objects else None,
        queue_left=visible + inflight,
        dlq=dlq_visible + dlq_inflight,
        series=drain_series(result["acks"], result["waves"]),
        batches=batch_closes(logpath),
    )
    return result


BATCH_LINE = re.compile(r"delete batch closed.*?keys=(\d+).*?messages=(\d+).*?reason=\"?(\w+)\"?.*?age_ms=(\d+)")


def batch_closes(logpath):
    """image-janitor's 'delete batch closed' debug lines: {reason: [count, keys, messages, age_ms]}."""
    out = {}
    try:
        with open(logpath, errors="replace") as f:
            for line in f:
                m = BATCH_LINE.search(ANSI.sub("", line))
                if m:
                    keys, msgs, reason, age = int(m[1]), int(m[2]), m[3], int(m[4])
                    agg = out.setdefault(reason, [0, 0, 0, 0])
                    agg[0] += 1
                    agg[1] += keys
                    agg[2] += msgs
                    agg[3] += age
    except OSError:
        pass
    return out


def main():
    ap = argparse.ArgumentParser(description="image-janitor worker benchmark (see scripts/bench.sh)")
    ap.add_argument("--moto", required=True, help="moto endpoint (feeder, uploads, depth polls)")
    ap.add_argument("--moto-pid", type=int, default=0)
    ap.add_argument("--moto-version", default="?")
    ap.add_argument("--proxy", required=True, help="counting proxy endpoint (the workers' AWS endpoint)")
    ap.add_argument("--janitor", required=True, help="image-janitor binary")
    ap.add_argument("--before", help="another image-janitor binary, reported as 'before'")
    ap.add_argument("--examples", required=True, help="directory of the example binaries")
    ap.add_argument("-n", "--n", type=int, default=1000)
    ap.add_argument("-k", "--k", type=int, default=5)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--wait", type=int, default=20, help="long-poll seconds, every worker")
    ap.add_argument("--max-visible", type=int, default=100, help="messages per wave")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME=BIN",
                    help="another image-janitor binary (or a wrapper script), run after 'before' and "
                         "reported as NAME; repeatable")
    ap.add_argument("--backlog", action="store_true", help="queue all N before starting the worker")
    ap.add_argument("--latency", action="store_true", help="light-load latency run")
    ap.add_argument("--rate", type=float, default=5.0, help="--latency: messages per second")
    ap.add_argument("--duration", type=float, default=60.0, help="--latency: seconds")
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--only", help="comma-separated subset of " + ",".join(WORKERS))
    ap.add_argument("--workdir", default=".cache/bench")
    ap.add_argument("--json-out")
    ap.add_argument("--svg-out")
    args = ap.parse_args()
    if args.latency:
        args.n = int(args.rate * args.duration)
    os.makedirs(args.workdir, exist_ok=True)
    names = [x for x in (args.only.split(",") if args.only else WORKERS)]
    unknown = set(names) - set(WORKERS)
    if unknown:
        ap.error(f"unknown worker(s) {sorted(unknown)}; choose from {', '.join(WORKERS)}")
    if not args.before:
        names = [x for x in names if x != "before"]
    variants = dict(v.split("=", 1) for v in args.variant)
    order = list(WORKERS[:2]) + list(variants) + list(WORKERS[2:])
    names += list(variants)

    base_env = {
        k: v for k, v in os.environ.items() if not k.startswith(("JANITOR_", "AWS_", "NAIVE_", "REF_"))
    }
    base_env.update(
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_REGION=REGION,
        AWS_EC2_METADATA_DISABLED="true",
    )
    results = {}
    for name in order:
        if name not in names:
            continue
        if name in ("ours", "before") or name in variants:
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
                # janitor::batch=debug: one line per closed delete batch (why, how many keys).
                RUST_LOG="warn,janitor::batch=debug",
            )
            binary = {"ours": args.janitor, "before": args.before}.get(name) or variants[name]
            results[name] = run_one(args, name, [binary, "run"], env, http_addr)
        elif name == "seed":
            env = dict(base_env, NAIVE_QUEUE_URL="{queue_url}",
                       NAIVE_CONCURRENCY=str(args.concurrency), NAIVE_WAIT_SECONDS=str(args.wait))
            results[name] = run_one(args, name, [os.path.join(args.examples, "naive_worker")], env)
        else:
            env = dict(base_env, REF_QUEUE_URL="{queue_url}",
                       REF_CONCURRENCY=str(args.concurrency), REF_WAIT_SECONDS=str(args.wait))
            binary = os.path.join(args.examples, name.replace("-", "_") + "_worker")
            results[name] = run_one(args, name, [binary], env, needs_objects=(name != "sqs-only"))
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"args": vars(args), "results": results}, f, indent=1)
    print(report.render(args, results), flush=True)
    if args.svg_out and not args.latency:
        report.svg_chart(args.svg_out, args, results)
        log(f"chart written to {args.svg_out}")


if __name__ == "__main__":
    main()
