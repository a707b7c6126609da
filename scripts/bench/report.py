"""Worker benchmark report (used by bench.py): the side-by-side table, every ratio against the
two references and the request floor, the latency percentiles, and the drain chart (SVG)."""


def mib(b):
    return b / (1024 * 1024)


def pct(values, q):
    """Nearest-rank percentile of a non-empty list."""
    v = sorted(values)
    return v[min(len(v) - 1, max(0, -(-len(v) * q // 100) - 1))]


def render(args, results):
    n, k = args.n, args.k
    floor = 0.2 + k / 1000
    names = list(results)
    out = []
    p = out.append
    width = 40
    col = 15

    def row(name, cells):
        p(f"{name:<{width}}" + "".join(f"{c:>{col}}" for c in cells))

    def each(f):
        return [f(results[x]) for x in names]

    if args.latency:
        feed = f"light load: {args.rate:g} msg/s for {args.duration:g} s (SendMessage)"
    elif args.backlog:
        feed = "all queued before the worker starts (--backlog)"
    else:
        feed = f"waves of {args.max_visible}, worker paused while each wave is sent"
    p("")
    p(f"== Worker benchmark: N={n} messages x k={k} images ({n * k} objects), "
      f"{args.concurrency} receive loops of 10, wait {args.wait}s; {feed}; moto {args.moto_version}")
    p("")
    row("", names)
    if args.latency:
        for q in (50, 90, 99):
            row(f"latency publish -> ack, p{q}", each(lambda r: f"{1000 * pct(r['latencies'], q):.0f} ms"))
        row("latency, max", each(lambda r: f"{1000 * max(r['latencies']):.0f} ms"))
        row("messages acknowledged", each(lambda r: str(len(r["latencies"]))))
    else:
        row("drain time (feeder's sends excluded)", each(lambda r: f"{r['drain']:.2f} s"))
        if not args.backlog:
            row("wall time, sends included", each(lambda r: f"{r['wall']:.1f} s"))
        row("throughput (drain)", each(lambda r: f"{n / r['drain']:.0f} msg/s"))
    row("AWS requests (counting proxy)", each(lambda r: str(r["requests"])))
    ops = sorted({op for r in results.values() for op in r["counts"]})
    for op in ops:
        row(f"  {op}", each(lambda r: str(r["counts"].get(op, 0))))
    row("messages per ReceiveMessage", each(
        lambda r: f"{n / max(r['counts'].get('sqs ReceiveMessage', 0), 1):.1f}"))
    row("AWS requests per message", each(lambda r: f"{r['requests'] / n:.3f}"))
    row(f"  vs floor (0.2 + {k}/1000 = {floor:.3f})", each(lambda r: f"{r['requests'] / n / floor:.2f}x"))
    row("peak RSS (VmHWM)", each(lambda r: f"{mib(r['peak_rss']):.1f} MiB"))
    row("CPU user+sys (worker process)", each(lambda r: f"{r['cpu']:.2f} s"))
    row("moto CPU during the run", each(lambda r: f"{r['moto_cpu']:.1f} s"))
    row("objects left / in queue / DLQ", each(
        lambda r: f"{'-' if r['objects_left'] is None else r['objects_left']}/{r['queue_left']}/{r['dlq']}"))
    row("exit code after SIGTERM", each(lambda r: str(r["exit_code"])))
    p("")
    p("Mean emulator latency per operation (time the proxy waited for moto):")
    for name, r in results.items():
        parts = [f"{op.split()[1]} {1000 * r['upstream_seconds'].get(op, 0) / c:.0f} ms"
                 for op, c in sorted(r["counts"].items()) if c]
        p(f"  {name}: " + ", ".join(parts))
    p("")
    p("ReceiveMessage calls by poll and messages returned (long = WaitTimeSeconds > 0):")
    for name, r in results.items():
        shapes = r.get("receives", {})
        order = sorted(shapes, key=lambda s: (s.split()[0], int(s.split()[1])))
        p(f"  {name}: " + ", ".join(f"{s} x{shapes[s]}" for s in order))
    for name, r in results.items():
        if r.get("batches"):
            p("")
            p(f"Delete batches closed, {name} (reason: count, mean keys, mean messages, mean age):")
            for reason, (c, keys, msgs, age) in sorted(r["batches"].items()):
                p(f"  {reason:<12}{c:>6}{keys / c:>10.1f} keys{msgs / c:>8.1f} msgs{age / c:>8.0f} ms")
    ours = results.get("ours")
    if ours and ours["metrics"] is not None:
        p("")
        p("Cross-check, ours: proxy count vs the worker's own janitor_aws_requests_total")
        mine = ours["metrics"]["aws"]
        for op in sorted(set(mine) | set(ours["counts"])):
            c, m = ours["counts"].get(op, 0), mine.get(op, 0)
            note = "" if c == m else "   (differs: calls in flight at the snapshot)"
            p(f"  {op:<36}{c:>8}{m:>10.0f}{note}")
    p("")
    p("Ratios and goals (one run, same waves):")
    verdict = lambda ok: "met" if ok else "NOT MET"  # noqa: E731
    if ours is None:
        return "\n".join(out)
    rpm = ours["requests"] / n
    p(f"  requests/message, ours vs floor          {rpm / floor:6.2f}x   goal <= 1.2x  {verdict(rpm / floor <= 1.2)}")
    if args.latency:
        p50, p99 = pct(ours["latencies"], 50), pct(ours["latencies"], 99)
        p(f"  latency p50, ours                        {1000 * p50:6.0f} ms  goal <= 150  {verdict(p50 <= 0.150)}")
        p(f"  latency p99, ours                        {1000 * p99:6.0f} ms  goal <= 400  {verdict(p99 <= 0.400)}")
        return "\n".join(out)
    for ref, goal in (("per-receive", 1.0), ("sqs-only", 1.3)):
        if ref in results:
            x = ours["drain"] / results[ref]["drain"]
            p(f"  drain, ours / {ref:<26} {x:6.2f}x   goal <= {goal:.1f}x  {verdict(x <= goal)}")
    for other in results:
        if other != "ours":
            r = results[other]
            p(f"  {other}: drain {r['drain'] / ours['drain']:5.2f}x ours, "
              f"requests/message {r['requests'] / n:.3f} = {r['requests'] / n / floor:.2f}x floor "
              f"= {r['requests'] / ours['requests']:.2f}x ours, "
              f"peak RSS {mib(r['peak_rss']):.1f} MiB, CPU {r['cpu']:.2f} s")
    p(f"  ours: peak RSS {mib(ours['peak_rss']):.1f} MiB, CPU {ours['cpu']:.2f} s "
      f"({ours['cpu'] * 1000 / n:.2f} s per 1,000 messages)")
    return "\n".join(out)


COLOURS = {"ours": "#1f77b4", "before": "#9467bd", "per-receive": "#2ca02c",
           "sqs-only": "#7f7f7f", "seed": "#d62728"}


def svg_chart(path, args, results):
    """Messages acknowledged over drain time (feeder's sends excluded), every worker."""
    w, h, ml, mr, mt, mb = 640, 380, 60, 20, 40, 45
    tmax = max(r["drain"] for r in results.values()) * 1.02
    n = args.n

    def xy(t, d):
        x = ml + (w - ml - mr) * t / tmax
        y = h - mb - (h - mt - mb) * max(d, 0) / n
        return f"{x:.1f},{y:.1f}"

    feed = "backlog" if args.backlog else f"waves of {args.max_visible}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
        'font-family="sans-serif" font-size="12">',
        f'<rect width="{w}" height="{h}" fill="white"/>',
        f'<text x="{w / 2}" y="22" text-anchor="middle" font-size="14">Messages acknowledged over '
        f"drain time (N={n}, k={args.k}, {feed}, moto {args.moto_version})</text>",
        f'<line x1="{ml}" y1="{h - mb}" x2="{w - mr}" y2="{h - mb}" stroke="black"/>',
        f'<line x1="{ml}" y1="{mt}" x2="{ml}" y2="{h - mb}" stroke="black"/>',
    ]
    for i in range(6):
        t = tmax * i / 5
        x = ml + (w - ml - mr) * i / 5
        parts.append(f'<text x="{x:.1f}" y="{h - mb + 16}" text-anchor="middle">{t:.1f}</text>')
        d = n * i / 5
        y = h - mb - (h - mt - mb) * i / 5
        parts.append(f'<text x="{ml - 6}" y="{y + 4:.1f}" text-anchor="end">{d:.0f}</text>')
        parts.append(f'<line x1="{ml}" y1="{y:.1f}" x2="{w - mr}" y2="{y:.1f}" stroke="#ddd"/>')
    parts.append(f'<text x="{(w + ml) / 2}" y="{h - 8}" text-anchor="middle">'
                 "seconds of drain (feeder's sends excluded)</text>")
    for i, (name, r) in enumerate(results.items()):
        colour = COLOURS.get(name, "black")
        pts = " ".join(xy(t, d) for t, d in [(0, 0)] + [tuple(s) for s in r["series"]])
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{pts}"/>')
        parts.append(f'<text x="{w - mr - 10}" y="{h - mb - 12 - 16 * i}" text-anchor="end" fill="{colour}">'
                     f'{name}: {r["drain"]:.2f} s, {r["requests"] / n:.3f} requests/message</text>')
    parts.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(parts) + "\n")
