"""The settings and metrics of image-janitor, read from the built binary itself.

scripts/check_settings.py holds the docs, the Kubernetes manifests, the alert rules and the
dashboard against what this module reads, so there is no hand-kept copy to fall behind:

- settings: every subcommand's `--help` (found from the top-level `--help`): each option's
  `[env: NAME=]`, flag, value name and `[default: ...]`, "(required" in its text; plus the
  "Environment-only settings" block that `run`, `sweep` and `preflight` print after their
  options (src/cli.rs ENV_ONLY_HELP).
- metrics: a `/metrics` scrape of `image-janitor run` started for a moment with every AWS
  endpoint pointing at a closed local port (nothing is reached, nothing is changed): the
  series a just-started daemon exposes, i.e. everything src/telemetry/metrics.rs
  zero-initialises, with its TYPE and label names.

Standard library only; used as `import binary_surface` from a script in scripts/.
"""
from __future__ import annotations

import os
import re
import socket
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

# How long the daemon may take to serve /metrics (a debug build on a loaded machine).
SCRAPE_DEADLINE_S = 60.0


@dataclass
class Setting:
    name: str
    flag: str | None = None  # `--queue-url`; None for environment-only settings
    value: str = ""  # the value name: URL, DURATION, N, ...
    default: str | None = None
    required: bool = False
    commands: set[str] = field(default_factory=set)  # "run", "dlq replay", ...


@dataclass
class Metric:
    name: str
    type: str  # counter, gauge, histogram
    labels: set[str] = field(default_factory=set)  # label names (without a histogram's `le`)


class SurfaceError(Exception):
    """The binary could not be asked (missing, crashed, no /metrics in time)."""


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """No JANITOR_* or AWS_* from the caller: clap would print their values in --help."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JANITOR_", "AWS_"))}
    env.update(extra or {})
    return env


def help_text(binary: Path, args: list[str]) -> str:
    out = subprocess.run([str(binary), *args, "--help"], capture_output=True, text=True,
                         env=clean_env(), timeout=30, check=False)
    if out.returncode != 0:
        raise SurfaceError(f"{binary} {' '.join(args)} --help exited {out.returncode}: {out.stderr.strip()}")
    return out.stdout


def subcommands(text: str) -> list[str]:
    """Names listed under `Commands:` (without `help`)."""
    m = re.search(r"^Commands:\n(.*?)(?:\n\S|\Z)", text, re.S | re.M)
    if not m:
        return []
    names = re.findall(r"^  ([a-z][a-z0-9-]*)\b", m.group(1), re.M)
    return [n for n in names if n != "help"]


OPTION_START = re.compile(r"^\s{2,}(?:-\w, )?(--[a-z0-9-]+)(?: \[?<([^>]+)>\]?)?", re.M)


def options(text: str, command: str, into: dict[str, Setting]) -> None:
    """The options of one `--help` that have an `[env: ...]`, merged into `into`."""
    m = re.search(r"^Options:\n(.*?)(?=^\S|\Z)", text, re.S | re.M)
    block = m.group(1) if m else ""
    starts = list(OPTION_START.finditer(block))
    for i, start in enumerate(starts):
        body = block[start.start(): starts[i + 1].start() if i + 1 < len(starts) else len(block)]
        env = re.search(r"\[env: ([A-Z0-9_]+)=", body)
        if not env:
            continue
        default = re.search(r"\[default: ([^\]]*)\]", body)
        s = into.setdefault(env.group(1), Setting(env.group(1)))
        s.flag = start.group(1)
        s.value = start.group(2) or ""
        s.default = default.group(1) if default else s.default
        s.required = s.required or bool(re.search(r"\(required[;)]", body))
        s.commands.add(command)
    env_only = re.search(r"^Environment-only settings.*?:\n(.*?)(?=^\S|\Z)", text, re.S | re.M)
    for line in (env_only.group(1).splitlines() if env_only else []):
        m = re.match(r"\s+([A-Z0-9_]+)=<([^>]+)>\s+(.*)", line)
        if not m:
            continue
        default = re.search(r"\[default: ([^\]]*)\]", m.group(3))
        s = into.setdefault(m.group(1), Setting(m.group(1)))
        s.value = m.group(2)
        s.default = default.group(1) if default else None
        s.commands.add(command)


def settings(binary: Path) -> dict[str, Setting]:
    """Every JANITOR_* setting of every subcommand, by name."""
    if not binary.is_file():
        raise SurfaceError(f"{binary} not found: build it first (cargo build --bin image-janitor)")
    found: dict[str, Setting] = {}
    todo = [[name] for name in subcommands(help_text(binary, []))]
    while todo:
        args = todo.pop(0)
        text = help_text(binary, args)
        subs = subcommands(text)
        if subs:
            todo += [args + [s] for s in subs]
        else:
            options(text, " ".join(args), found)
    if not found:
        raise SurfaceError(f"{binary} --help names no setting")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_exposition(text: str) -> dict[str, Metric]:
    metrics: dict[str, Metric] = {}
    for m in re.finditer(r"^# TYPE (\S+) (\S+)$", text, re.M):
        metrics[m.group(1)] = Metric(m.group(1), m.group(2))
    for m in re.finditer(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? ", text, re.M):
        name = m.group(1)
        for suffix in ("_bucket", "_sum", "_count"):
            base = name[: -len(suffix)]
            if name.endswith(suffix) and metrics.get(base, Metric(base, "")).type == "histogram":
                name = base
        if name in metrics and m.group(2):
            metrics[name].labels |= set(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="', m.group(2))) - {"le"}
    return metrics


def metrics(binary: Path) -> dict[str, Metric]:
    """The series `/metrics` shows right after `run` starts (timer and depth poller off)."""
    if not binary.is_file():
        raise SurfaceError(f"{binary} not found: build it first (cargo build --bin image-janitor)")
    # A port bound and released again: nobody listens there, every AWS call is refused at once.
    port, nowhere = free_port(), f"http://127.0.0.1:{free_port()}"
    env = clean_env({
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "binary-surface",
        "AWS_SECRET_ACCESS_KEY": "binary-surface",
        "AWS_ENDPOINT_URL": nowhere,
        "AWS_EC2_METADATA_DISABLED": "true",
        "JANITOR_QUEUE_URL": f"{nowhere}/123456789012/binary-surface",
        "JANITOR_DLQ_URL": f"{nowhere}/123456789012/binary-surface-dlq",
        "JANITOR_BUCKETS": "binary-surface",
        "JANITOR_PREFIX": "binary-surface/",
        "JANITOR_HTTP_ADDR": f"127.0.0.1:{port}",
        "JANITOR_SWEEP_INTERVAL": "0",
        "JANITOR_QUEUE_POLL_INTERVAL": "0",
        "JANITOR_SHUTDOWN_TIMEOUT": "1s",
        "RUST_LOG": "error",
    })
    with tempfile.TemporaryFile() as stderr:
        proc = subprocess.Popen([str(binary), "run"], env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            deadline = time.monotonic() + SCRAPE_DEADLINE_S
            while True:
                if proc.poll() is not None:
                    stderr.seek(0)
                    tail = stderr.read().decode(errors="replace").strip().splitlines()[-3:]
                    raise SurfaceError(f"{binary} run exited {proc.returncode} before serving /metrics: {tail}")
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as resp:
                        text = resp.read().decode()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise SurfaceError(f"{binary} run served no /metrics within {SCRAPE_DEADLINE_S:.0f}s")
                    time.sleep(0.1)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    found = parse_exposition(text)
    if not found:
        raise SurfaceError(f"{binary} run: /metrics lists no metric")
    return found
