"""Scaling benchmark driver (run through scripts/bench-scaling.sh, which starts moto).

For P in 1, 2, 4 worker processes: drain N page.created messages x k images with P
image-janitor processes (each with C receive loops), then drain N messages of the same size with
P processes of a trivial client (scripts/bench/trivial_client.py: C threads of ReceiveMessage(10)
+ DeleteMessageBatch, no S3 work, no parsing) -- the most messages/s the emulator sustains at that
concurrency. moto is reset between runs; the queue, uploads, feeder and depth polls are
scripts/bench/bench.py's (straight to moto: there is no counting proxy here, so that a Python
proxy on the same cores does not become the bottleneck; image-janitor's requests come from its
own janitor_aws_requests_total).

Throughput is N / the time from the start of the processes to an empty queue (no message visible
or in flight). The trivial clients are started only once all of them have imported boto3 and
built their client (they wait for SIGUSR1), so Python's start-up is not counted; image-janitor's
start-up (tens of milliseconds) is. moto's CPU seconds per 1,000 messages show the emulator's own
cost of each workload.
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench import (  # noqa: E402  (bench.py is a sibling script, not a package)
    PREFIX,
    BUCKET,
    REGION,
    Workload,
    http_post,
    log,
    mib,
    proc_cpu,
    proc_figures,
    scrape_metrics,
    stall_seconds,
)


def free_addr():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    addr = f"127.0.0.1:{s.getsockname()[1]}"
    s.close()
    return addr


def base_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JANITOR_", "AWS_"))}
    env.update(
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_REGION=REGION,
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


def start_janitors(args, queue_url, procs):
    out = []
    for i in range(procs):
        addr = free_addr()
        env = dict(
            base_env(),
            AWS_ENDPOINT_URL=args.moto,
            JANITOR_QUEUE_URL=queue_url,
            JANITOR_BUCKETS=BUCKET,
            JANITOR_PREFIX=PREFIX,
            JANITOR_S3_FORCE_PATH_STYLE="true",
            JANITOR_CONCURRENCY=str(args.concurrency),
            JANITOR_WAIT_TIME=f"{args.wait}s",
            JANITOR_VISIBILITY_TIMEOUT=f"{args.visibility}s",
            JANITOR_HTTP_ADDR=addr,
            JANITOR_SWEEP_INTERVAL="0",
            JANITOR_LOG_FORMAT="text",
            JANITOR_AUDIT="off",
            RUST_LOG="warn",
        )
        logpath = os.path.join(args.workdir, f"scaling-janitor-{procs}-{i}.log")
        with open(logpath, "w") as logf:
            p = subprocess.Popen([args.janitor, "run"], env=env, stdout=logf, stderr=subprocess.STDOUT)
        out.append((p, addr, logpath))
    return out


def start_clients(args, queue_url, procs):
    out = []
    for i in range(procs):
        logpath = os.path.join(args.workdir, f"scaling-trivial-{procs}-{i}.log")
        with open(logpath, "w") as logf:
            p = subprocess.Popen(
                [sys.executable, os.path.join(os.path.dirname(__file__), "trivial_client.py"),
                 "--endpoint", args.moto, "--queue-url", queue_url,
                 "--threads", str(args.concurrency), "--visibility", str(args.visibility)],
                stdout=subprocess.PIPE, stderr=logf, text=True,
            )
        out.append((p, None, logpath))
    for p, _, logpath in out:
        if p.stdout.readline().strip() != "ready":
            raise RuntimeError(f"trivial client {p.pid} did not start; see {logpath}")
    for p, _, _ in out:
        p.send_signal(signal.SIGUSR1)
    return out


def stop(procs):
    for p, _, _ in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    codes, stdout = [], []
    for p, _, _ in procs:
        try:
            o, _ = p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            o, _ = p.communicate()
        codes.append(p.returncode)
        stdout.append(o or "")
    return codes, stdout


def run(args, kind, procs):
    """Drain N messages with `procs` processes of `kind` ("janitor" or "trivial")."""
    w = Workload(args)
    http_post(f"{args.moto}/moto-api/reset")
    w.setup()
    if kind == "janitor":
        w.upload()
    if args.backlog:
        w.preload()
    started = (start_janitors if kind == "janitor" else start_clients)(args, w.queue_url, procs)
    moto_cpu0 = proc_cpu(args.moto_pid)
    label = f"{kind} x{procs}"
    log(f"{label}: started pids {[p.pid for p, _, _ in started]}; draining {args.n} messages")
    try:
        seconds, series = w.feed_and_drain(args.timeout, sent=args.n if args.backlog else 0)
        figures = [proc_figures(p.pid) for p, _, _ in started]
        moto_cpu = proc_cpu(args.moto_pid) - moto_cpu0
        requests = None
        received = 0.0
        if kind == "janitor":
            requests = 0.0
            for _, addr, _ in started:
                m = scrape_metrics(f"http://{addr}/metrics")
                requests += sum(m["aws"].values())
                received += sum(v for k, v in m["other"].items()
                                if k.startswith("janitor_messages_received_total"))
    finally:
        codes, stdout = stop(started)
    if kind == "trivial":
        totals = [json.loads(o.strip().splitlines()[-1]) for o in stdout if o.strip()]
        requests = sum(t["receives"] + t["delete_batches"] for t in totals)
        received = sum(t["messages"] for t in totals)
    left = w.objects_left() if kind == "janitor" else 0
    dlq = sum(w.depth(w.dlq_url))
    log(f"{label}: drained in {seconds:.1f}s ({args.n / seconds:.0f} msg/s), "
        f"moto CPU {moto_cpu / seconds:.0%}")
    return {
        "kind": kind,
        "procs": procs,
        "seconds": seconds,
        "throughput": args.n / seconds,
        "stall_seconds": stall_seconds(series, args.n),
        "series": series,
        "peak_rss": [f[0] for f in figures],
        "cpu": [f[2] for f in figures],
        "moto_cpu": moto_cpu,
        "requests": requests,
        "messages_handled": received,
        "exit_codes": codes,
        "objects_left": left,
        "dlq": dlq,
    }


def report(args, results):
    n, k, c = args.n, args.k, args.concurrency
    by = {(r["kind"], r["procs"]): r for r in results}
    base = by[("janitor", args.procs[0])]
    out = []
    p = out.append
    feed = "all queued before the processes start (--backlog)" if args.backlog else (
        f"fed in waves, <= {args.max_visible} visible")
    p("")
    p(f"== Scaling: N={n} messages x k={k} images, {c} receive loops per process, "
      f"visibility {args.visibility}s; {feed}; moto {args.moto_version} (one Python process)")
    p("")
    p(f"{'procs':>5} {'loops':>5} | {'janitor wall':>12} {'msg/s':>6} {'vs 1':>5} {'moto CPU':>8} "
      f"{'moto s/1k':>9} {'req/msg':>7} | {'trivial wall':>12} {'msg/s':>6} {'moto CPU':>8} "
      f"{'moto s/1k':>9} | {'janitor/ceiling':>15}")
    for procs in args.procs:
        j, t = by.get(("janitor", procs)), by.get(("trivial", procs))
        cells = [f"{procs:>5} {procs * c:>5} |"]
        if j:
            cells.append(
                f"{j['seconds']:>10.1f} s {j['throughput']:>6.0f} {j['throughput'] / base['throughput']:>4.2f}x "
                f"{j['moto_cpu'] / j['seconds']:>8.0%} {j['moto_cpu'] * 1000 / n:>9.1f} "
                f"{j['requests'] / n:>7.3f} |")
        if t:
            cells.append(
                f"{t['seconds']:>10.1f} s {t['throughput']:>6.0f} {t['moto_cpu'] / t['seconds']:>8.0%} "
                f"{t['moto_cpu'] * 1000 / n:>9.1f} |")
        if j and t:
            cells.append(f"{j['throughput'] / t['throughput']:>14.2f}x")
        p(" ".join(cells))
    p("")
    p("msg/s = N / wall (processes started to queue empty); vs 1 = relative to one process;")
    p("moto CPU = moto's CPU seconds / wall (100 % = one core, its ceiling); moto s/1k = moto CPU")
    p("seconds per 1,000 messages; req/msg = AWS requests per message (janitor: its own metrics).")
    p("")
    for r in results:
        if r["kind"] != "janitor":
            continue
        cpu, rss = sum(r["cpu"]), max(r["peak_rss"])
        p(f"janitor x{r['procs']}: peak RSS {' / '.join(f'{mib(x):.1f}' for x in r['peak_rss'])} MiB, "
          f"CPU {sum(r['cpu']):.2f} s in all = {cpu * 1000 / n:.2f} s per 1,000 messages, "
          f"max RSS {mib(rss):.1f} MiB; handled {r['messages_handled']:.0f} receipts for {n} messages; "
          f"objects left {r['objects_left']}, DLQ {r['dlq']}, stuck {r['stall_seconds']:.1f} s, "
          f"exit codes {r['exit_codes']}")
    for r in results:
        if r["kind"] == "trivial":
            p(f"trivial x{r['procs']}: client CPU {sum(r['cpu']):.2f} s, {r['requests']} requests "
              f"({r['requests'] / n:.3f}/message), deleted {r['messages_handled']} "
              f"(duplicates from moto races counted), stuck {r['stall_seconds']:.1f} s")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description="scaling benchmark (see scripts/bench-scaling.sh)")
    ap.add_argument("--moto", required=True)
    ap.add_argument("--moto-pid", type=int, default=0)
    ap.add_argument("--moto-version", default="?")
    ap.add_argument("--janitor", required=True)
    ap.add_argument("-n", "--n", type=int, default=500)
    ap.add_argument("-k", "--k", type=int, default=5)
    ap.add_argument("--procs", default="1,2,4")
    ap.add_argument("--concurrency", type=int, default=4, help="receive loops (threads) per process")
    ap.add_argument("--wait", type=int, default=20)
    ap.add_argument("--visibility", type=int, default=20)
    ap.add_argument("--max-visible", type=int, default=100)
    ap.add_argument("--backlog", action="store_true")
    ap.add_argument("--poll", type=float, default=0.2)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--skip-trivial", action="store_true")
    ap.add_argument("--workdir", default=".cache/bench")
    ap.add_argument("--json-out")
    args = ap.parse_args()
    args.procs = [int(x) for x in args.procs.split(",")]
    os.makedirs(args.workdir, exist_ok=True)
    results = []
    for procs in args.procs:
        results.append(run(args, "janitor", procs))
        if not args.skip_trivial:
            results.append(run(args, "trivial", procs))
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"args": vars(args), "results": results}, f, indent=1)
    print(report(args, results), flush=True)


if __name__ == "__main__":
    main()
