#!/usr/bin/env python3
"""Offline checks of the terraform under infra/terraform (no providers needed).

1. Every .tf file parses with python-hcl2.
2. Every variable has a description and a type; every output a description.
3. The module exposes the outputs the deployment relies on, and the example
   passes them through.
4. The module's defaults keep their documented values (max_receive_count 8 and
   > JANITOR_MAX_ATTEMPTS 5, visibility 60s, long poll 20s, expiration 7 days,
   lease key outside the prefix).

Exit 1 with one line per problem.

python-hcl2 8.x keeps HCL string quotes in keys and values ('"name"');
unq() strips them.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import hcl2

ROOT = Path(__file__).resolve().parent.parent
TF_ROOT = ROOT / "infra" / "terraform"
MODULE = TF_ROOT / "modules" / "image-janitor"
EXAMPLE = TF_ROOT / "examples" / "complete"

REQUIRED_OUTPUTS = {
    "main_queue_url",
    "dlq_url",
    "main_queue_arn",
    "dlq_arn",
    "worker_role_arn",
    "notion_writer_policy_arn",
    "operator_policy_arn",
    "bucket_name",
    "prefix",
    "lease_key",
}
# Variables that must carry at least one validation block.
VALIDATED_VARIABLES = {
    "max_receive_count",
    "visibility_timeout_seconds",
    "receive_wait_time_seconds",
    "expiration_days",
    "bucket_name",
    "prefix",
    "lease_key",
    "namespace",
}
JANITOR_MAX_ATTEMPTS_DEFAULT = 5

problems: list[str] = []


def problem(msg: str) -> None:
    problems.append(msg)


def unq(value):
    """'"abc"' -> 'abc' (python-hcl2 >= 7 keeps the quotes); other values unchanged."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value[1:-1]
    return value


def num(value):
    value = unq(value)
    if isinstance(value, (int, float)):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def blocks(doc: dict, kind: str) -> dict[str, dict]:
    """{'variable': [{'"x"': {...}}, ...]} -> {'x': {...}}."""
    out: dict[str, dict] = {}
    for entry in doc.get(kind, []) or []:
        for name, body in entry.items():
            out[unq(name)] = body
    return out


def parse_dir(directory: Path) -> dict[str, list]:
    merged: dict[str, list] = {}
    for tf in sorted(directory.glob("*.tf")):
        with tf.open(encoding="utf-8") as fh:
            doc = hcl2.load(fh)
        for key, value in doc.items():
            if isinstance(value, list):
                merged.setdefault(key, []).extend(value)
    return merged


def main() -> int:
    tf_files = sorted(p for p in TF_ROOT.rglob("*.tf") if ".terraform" not in p.parts)
    if not tf_files:
        problem(f"no .tf files under {TF_ROOT}")
    for tf in tf_files:
        try:
            with tf.open(encoding="utf-8") as fh:
                hcl2.load(fh)
        except Exception as exc:  # noqa: BLE001 - any parser error is a finding
            problem(f"{tf.relative_to(ROOT)}: does not parse: {exc}")
    if problems:
        return report(len(tf_files))

    directories = sorted({tf.parent for tf in tf_files})
    for directory in directories:
        rel = directory.relative_to(ROOT)
        doc = parse_dir(directory)
        for name, body in blocks(doc, "variable").items():
            if not unq(body.get("description", "")):
                problem(f"{rel}: variable {name} has no description")
            if "type" not in body:
                problem(f"{rel}: variable {name} has no type")
        for name, body in blocks(doc, "output").items():
            if not unq(body.get("description", "")):
                problem(f"{rel}: output {name} has no description")

    module = parse_dir(MODULE)
    example = parse_dir(EXAMPLE)
    mod_vars = blocks(module, "variable")
    mod_outputs = set(blocks(module, "output"))
    ex_outputs = set(blocks(example, "output"))
    for name in sorted(REQUIRED_OUTPUTS - mod_outputs):
        problem(f"module: missing output {name}")
    for name in sorted(REQUIRED_OUTPUTS - ex_outputs):
        problem(f"examples/complete: missing output {name}")
    for name in sorted(VALIDATED_VARIABLES):
        if name not in mod_vars:
            problem(f"module: missing variable {name}")
        elif not mod_vars[name].get("validation"):
            problem(f"module: variable {name} has no validation block")

    def default(name):
        return mod_vars.get(name, {}).get("default")

    expect = {
        "max_receive_count": 8,
        "visibility_timeout_seconds": 60,
        "receive_wait_time_seconds": 20,
        "expiration_days": 7,
        "noncurrent_version_expiration_days": 1,
        "abort_incomplete_multipart_upload_days": 1,
    }
    for name, want in expect.items():
        got = num(default(name))
        if got != want:
            problem(f"module: variable {name} default is {got!r}, want {want}")
    mrc = num(default("max_receive_count"))
    if mrc is not None and mrc <= JANITOR_MAX_ATTEMPTS_DEFAULT:
        problem(
            f"module: max_receive_count default {mrc} must exceed JANITOR_MAX_ATTEMPTS "
            f"({JANITOR_MAX_ATTEMPTS_DEFAULT}), or SQS dead-letters before the worker can"
        )
    lease = unq(default("lease_key"))
    prefix = unq(default("prefix"))
    if lease != "image-janitor/sweeper.lease":
        problem(f"module: lease_key default is {lease!r}, want 'image-janitor/sweeper.lease'")
    if prefix and isinstance(lease, str) and lease.startswith(prefix):
        problem(f"module: lease_key {lease!r} lies inside prefix {prefix!r}")

    # The example must call the module by its relative path.
    calls = blocks(example, "module")
    if not any(unq(b.get("source")) == "../../modules/image-janitor" for b in calls.values()):
        problem("examples/complete: no module call with source ../../modules/image-janitor")

    return report(len(tf_files))


def report(count: int) -> int:
    for msg in problems:
        print(f"check_terraform: {msg}", file=sys.stderr)
    if problems:
        print(f"check_terraform: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"check_terraform: {count} .tf files parse; variables, outputs and defaults ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
