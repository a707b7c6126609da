#!/usr/bin/env python3
"""Offline checks of the terraform under infra/terraform (no providers needed).

1. Every .tf file parses with python-hcl2.
2. Every variable has a description and a type; every output a description.
3. The module exposes the outputs the deployment relies on, and the example
   passes them through.
4. The module's defaults keep their documented values (max_receive_count 8 and
   > JANITOR_MAX_ATTEMPTS 5, visibility 60s, long poll 20s, expiration 7 days,
   lease key outside the prefix, 1 MiB messages, versioning off, alarms off).
5. Both versioning settings: the bucket's versioning status follows
   var.versioning (Enabled / Suspended) and the lifecycle rule expires
   noncurrent versions under the prefix either way; the checkov skip of
   CKV_AWS_21 says why versioning may be off.
6. Both queues use var.max_message_size; name is capped for IAM's 64-character
   role names including the module's longest suffix.

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
    "max_message_size",
    "identity",
    "queue_policy_statements",
    "bucket_objects_alarm_threshold",
    "bucket_size_alarm_threshold_bytes",
}
# The longest IAM role name the module derives from var.name.
ROLE_SUFFIXES = ("-worker", "-keda-scaler")
IAM_ROLE_NAME_MAX = 64
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
        "max_message_size": 1048576,
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

    for name, want in (("versioning", False), ("create_alarms", False)):
        if unq(default(name)) is not want:
            problem(f"module: variable {name} default is {default(name)!r}, want {want}")
    check_versioning(module)
    check_queues(module)
    check_name_length(mod_vars.get("name", {}))

    # The example must call the module by its relative path.
    calls = blocks(example, "module")
    if not any(unq(b.get("source")) == "../../modules/image-janitor" for b in calls.values()):
        problem("examples/complete: no module call with source ../../modules/image-janitor")

    return report(len(tf_files))


def resources(doc: dict, kind: str) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for entry in doc.get("resource", []) or []:
        for rkind, named in entry.items():
            if unq(rkind) == kind:
                for name, body in named.items():
                    out[unq(name)] = body
    return out


def first(value):
    return value[0] if isinstance(value, list) and value else value


def conditional(expr: str, var: str, value: bool):
    """Evaluate '${var.X ? "A" : "B"}' for var.X = value; None if it is not that shape."""
    import re

    m = re.fullmatch(r'\$\{\s*var\.%s\s*\?\s*"([^"]*)"\s*:\s*"([^"]*)"\s*\}' % re.escape(var), str(expr).strip())
    if not m:
        return None
    return m.group(1) if value else m.group(2)


def check_versioning(module: dict) -> None:
    """Both settings of var.versioning: status, and noncurrent-version expiry that does not depend on it."""
    versioning = resources(module, "aws_s3_bucket_versioning").get("images")
    if versioning is None:
        problem("module: no aws_s3_bucket_versioning.images")
        return
    status_expr = first(versioning.get("versioning_configuration", [{}])).get("status")
    for value, want in ((True, "Enabled"), (False, "Suspended")):
        got = conditional(status_expr, "versioning", value)
        if got != want:
            problem(f"module: with versioning = {str(value).lower()} the bucket's versioning status is {got!r}, want {want!r}")
    lifecycle = resources(module, "aws_s3_bucket_lifecycle_configuration").get("images", {})
    if "dynamic" in lifecycle:
        problem("module: lifecycle rules must not be dynamic (the noncurrent expiry applies with versioning on or off)")
    prefix_rules = [r for r in lifecycle.get("rule", [])
                    if unq(first(r.get("filter", [{}])).get("prefix")) == "${var.prefix}"]
    if not prefix_rules or not any(r.get("noncurrent_version_expiration") for r in prefix_rules):
        problem("module: the prefix's lifecycle rule must expire noncurrent versions (versioning on)")
    bucket = resources(module, "aws_s3_bucket").get("images", {})
    text = (MODULE / "s3.tf").read_text(encoding="utf-8")
    if "checkov:skip=CKV_AWS_21:" not in text or not bucket:
        problem("module: the bucket needs a reasoned checkov skip of CKV_AWS_21 (versioning off by default)")


def check_queues(module: dict) -> None:
    queues = resources(module, "aws_sqs_queue")
    for name in ("main", "dlq"):
        size = unq(queues.get(name, {}).get("max_message_size"))
        if size != "${var.max_message_size}":
            problem(f"module: aws_sqs_queue.{name} max_message_size is {size!r}, want var.max_message_size")


def check_name_length(name_var: dict) -> None:
    import re

    text = json.dumps(name_var.get("validation", []))
    m = re.search(r"\{1,(\d+)\}", text)
    longest = max(len(s) for s in ROLE_SUFFIXES)
    if not m or int(m.group(1)) + longest > IAM_ROLE_NAME_MAX:
        problem(f"module: variable name must be capped at {IAM_ROLE_NAME_MAX - longest} characters "
                f"(IAM role names <= {IAM_ROLE_NAME_MAX} with the suffix {max(ROLE_SUFFIXES, key=len)!r})")


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
