#!/usr/bin/env python3
"""Cross-checks of the docs and deployment files against the binary, CONTRACT §5/§7 and each other.

The settings and metrics are read from the built binary (scripts/binary_surface.py: every
subcommand's `--help`, and a `/metrics` scrape of `run` started for a moment with AWS
unreachable), never from a hand-kept list: build it first (`cargo build --bin
image-janitor`; scripts/lint.sh does) or name it with `--binary PATH`.

- docs/configuration.md documents exactly the binary's settings (flag and default as
  `--help` shows them, "required" where it is); docs/metrics.md exactly its metrics (type
  and label names as /metrics shows them); CONTRACT §5/§7 (when ../shared/CONTRACT.md is
  there) names nothing the binary lacks.
- The settings (base/settings.env, the generated ConfigMap) are CONTRACT §5
  settings (plus AWS_* and RUST_LOG); the required ones are there; values are
  well-formed and agree with the pod spec (shutdown timeout < grace period,
  HTTP port = container port) and with terraform (max attempts <
  maxReceiveCount, queue/bucket/prefix/role names).
- KEDA, ServiceAccount, ServiceMonitor, Service, Deployment, CronJob refer to
  each other; KEDA reads the queue URL from the pod's env.
- infra/prometheus/rules.yml and the PrometheusRule hold the same rules; every
  alert has summary, description, runbook_url and a `for:`; the expected
  alerts exist; every aggregation keeps `namespace`; every janitor_* metric a
  rule or a dashboard panel uses is exposed by a just-started daemon (zero-
  initialised in src/telemetry/metrics.rs), so no expression depends on an
  event having happened.
- The Grafana dashboard parses, is templated on ${datasource}, selects one
  namespace, and uses only known metrics.
- With `--rendered DIR` (scripts/lint.sh renders every base, component and
  overlay with `kubectl kustomize` into DIR): every rendered ConfigMap
  reference resolves, the ServiceMonitor and PrometheusRule carry the
  kube-prometheus-stack `release` label, and the production overlay holds no
  placeholder.

`--fix` rewrites infra/kubernetes/base/prometheusrule.yaml from rules.yml.
Exit 1 with one line per problem.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import yaml

import binary_surface

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "infra" / "kubernetes"
BASE = K8S / "base"
COMPONENT = K8S / "components" / "cronjob-sweep"
SETTINGS_ENV = BASE / "settings.env"
# Values of the base that a real deployment must replace (overlays/production).
PLACEHOLDERS = ("123456789012", "sha256:" + "0" * 64)
RULES = ROOT / "infra" / "prometheus" / "rules.yml"
PROMRULE = BASE / "prometheusrule.yaml"
DASHBOARD = ROOT / "infra" / "grafana" / "image-janitor.json"
TF_MODULE = ROOT / "infra" / "terraform" / "modules" / "image-janitor"
TF_EXAMPLE = ROOT / "infra" / "terraform" / "examples" / "complete"
CONFIGURATION_MD = ROOT / "docs" / "configuration.md"
METRICS_MD = ROOT / "docs" / "metrics.md"
BINARY = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "debug" / "image-janitor"

# Read from the binary by main() (scripts/binary_surface.py).
SETTINGS: dict[str, binary_surface.Setting] = {}
METRICS: dict[str, binary_surface.Metric] = {}


def histograms() -> set[str]:
    return {name for name, m in METRICS.items() if m.type == "histogram"}


PROMETHEUS_BUILTINS = {"up"}
# kube-state-metrics series the Kubernetes-side alerts use.
KUBE_STATE_METRICS = {
    "kube_job_status_failed",
    "kube_pod_container_status_restarts_total",
    "kube_pod_container_status_last_terminated_reason",
    "kube_horizontalpodautoscaler_status_current_replicas",
    "kube_horizontalpodautoscaler_spec_max_replicas",
}

EXPECTED_ALERTS = {
    "ImageJanitorDeadLetterNotEmpty",
    "ImageJanitorDeadLetterGrowing",
    "ImageJanitorDeleteErrorsHigh",
    "ImageJanitorBacklogStalled",
    "ImageJanitorOldestMessageTooOld",
    "ImageJanitorSweepMissing",
    "ImageJanitorSweepErrors",
    "ImageJanitorDown",
    "ImageJanitorTargetDown",
    "ImageJanitorPrefixObjectTooOld",
    "ImageJanitorPrefixGrowing",
    "ImageJanitorSweepJobFailed",
    "ImageJanitorRestarting",
    "ImageJanitorOOMKilled",
    "ImageJanitorScaledToMax",
}
RUNBOOK_PREFIX = "https://github.com/example/image-janitor/blob/main/docs/operations.md#"

problems: list[str] = []


def problem(msg: str) -> None:
    problems.append(msg)


def load_yaml(path: Path) -> dict:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def contract_section(number: int) -> tuple[str, str] | None:
    """(path, text) of CONTRACT.md's section `number` when the contract is beside the checkout."""
    for candidate in (ROOT / ".." / "shared" / "CONTRACT.md", ROOT / "CONTRACT.md"):
        if candidate.is_file():
            text = candidate.read_text(encoding="utf-8")
            m = re.search(r"^## %d\..*?(?=^## |\Z)" % number, text, re.S | re.M)
            return str(candidate), (m.group(0) if m else text)
    return None


def check_contract() -> None:
    """Everything CONTRACT §5 and §7 name, the binary has."""
    s5 = contract_section(5)
    if s5:
        for name in sorted(set(re.findall(r"`(JANITOR_[A-Z0-9_]+)`", s5[1])) - set(SETTINGS)):
            problem(f"{s5[0]} §5 names {name}; the binary's --help does not")
    s7 = contract_section(7)
    if s7:
        for name in sorted(set(re.findall(r"^\| `(janitor_[a-z0-9_]+)`", s7[1], re.M)) - set(METRICS)):
            problem(f"{s7[0]} §7 names {name}; a just-started daemon's /metrics does not")


def table_rows(path: Path, first: str) -> list[tuple[int, list[str]]]:
    """(line number, cells) of the Markdown table rows whose first cell is `first` (a regex)."""
    rows = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and re.fullmatch(first, cells[0]):
            rows.append((lineno, cells))
    return rows


def check_configuration_md() -> None:
    """docs/configuration.md: one row per setting of the binary, flag and default as --help says."""
    where = CONFIGURATION_MD.relative_to(ROOT)
    documented: set[str] = set()
    for lineno, cells in table_rows(CONFIGURATION_MD, r"`JANITOR_[A-Z0-9_]+`"):
        name = cells[0].strip("`")
        documented.add(name)
        s = SETTINGS.get(name)
        if s is None:
            problem(f"{where}:{lineno}: {name} is not a setting of the binary (--help)")
            continue
        has_flag = len(cells) > 1 and cells[1].startswith("`--")
        if has_flag and cells[1].strip("`") != s.flag:
            problem(f"{where}:{lineno}: {name} is {s.flag or 'environment-only'} in --help, not {cells[1]}")
        if not has_flag and s.flag:
            problem(f"{where}:{lineno}: {name} has the flag {s.flag}; give the row a flag column")
        default = cells[2 if has_flag else 1] if len(cells) > (2 if has_flag else 1) else ""
        if s.required != (default == "required"):
            problem(f"{where}:{lineno}: {name} is {'' if s.required else 'not '}required in --help; the default column says {default!r}")
        # Prose defaults ("the main queue's RedrivePolicy target") are not compared.
        if s.default and " " not in s.default and default.strip("`") != s.default:
            problem(f"{where}:{lineno}: {name} defaults to {s.default!r} in --help, not {default!r}")
    for name in sorted(set(SETTINGS) - documented):
        problem(f"{where}: no row for {name} (a setting of the binary: {', '.join(sorted(SETTINGS[name].commands))})")


def check_metrics_md() -> None:
    """docs/metrics.md: one typed row per metric of /metrics, type and label names as exposed."""
    where = METRICS_MD.relative_to(ROOT)
    documented: set[str] = set()
    for lineno, cells in table_rows(METRICS_MD, r"`janitor_[a-z0-9_]+`"):
        name = cells[0].strip("`")
        m = METRICS.get(name)
        if m is None:
            problem(f"{where}:{lineno}: {name} is not among the binary's metrics (/metrics at start-up)")
            continue
        if len(cells) < 3 or cells[1] not in ("counter", "gauge", "histogram"):
            continue  # a summary table without type and labels
        documented.add(name)
        if cells[1] != m.type:
            problem(f"{where}:{lineno}: {name} is a {m.type} on /metrics, not a {cells[1]}")
        labels = set()
        for segment in cells[2].split(";"):
            first = re.search(r"`([a-z_]+)`", segment)
            if first:
                labels.add(first.group(1))
        if labels != m.labels:
            problem(f"{where}:{lineno}: {name} has labels {sorted(m.labels)} on /metrics, the row says {sorted(labels)}")
    for name in sorted(set(METRICS) - documented):
        problem(f"{where}: no row (with type and labels) for {name}")


def parse_env(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a kustomize env file (comments and blank lines skipped)."""
    out: dict[str, str] = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "=" not in line:
            problem(f"{path.relative_to(ROOT)}:{lineno}: not KEY=VALUE")
            continue
        key, value = line.split("=", 1)
        if key in out:
            problem(f"{path.relative_to(ROOT)}:{lineno}: {key} set twice")
        out[key] = value
    return out


def duration_seconds(value: str) -> float | None:
    m = re.fullmatch(r"(\d+)(ms|s|m|h|d)", value)
    if not m:
        return 0.0 if value == "0" else None
    n, unit = int(m.group(1)), m.group(2)
    return n * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}[unit]


def tf_default(directory: Path, variable: str) -> str | None:
    """The default of a terraform variable, read with a regex (no hcl2 here)."""
    for tf in sorted(directory.glob("*.tf")):
        text = tf.read_text(encoding="utf-8")
        m = re.search(r'variable\s+"%s"\s*\{(.*?)\n\}' % re.escape(variable), text, re.S)
        if m:
            d = re.search(r'^\s*default\s*=\s*(.+?)\s*$', m.group(1), re.M)
            if d:
                return d.group(1).strip('"')
    return None


def sqs_queue(url: str) -> tuple[str, str, str]:
    """https://sqs.REGION.amazonaws.com/ACCOUNT/NAME -> (region, account, name)."""
    parsed = urlparse(url)
    host_parts = parsed.hostname.split(".") if parsed.hostname else []
    region = host_parts[1] if len(host_parts) > 2 and host_parts[0] == "sqs" else ""
    path = [p for p in parsed.path.split("/") if p]
    if parsed.scheme != "https" or len(path) != 2:
        problem(f"{url!r} is not an SQS queue URL https://sqs.REGION.amazonaws.com/ACCOUNT/NAME")
        return region, "", ""
    return region, path[0], path[1]


def containers(pod_spec: dict) -> list[dict]:
    return list(pod_spec.get("containers", [])) + list(pod_spec.get("initContainers", []))


# ---------------------------------------------------------------------------
# Kubernetes
# ---------------------------------------------------------------------------


def check_kubernetes() -> None:
    kustomization = load_yaml(BASE / "kustomization.yaml")
    for res in kustomization.get("resources", []):
        if not (BASE / res).exists():
            problem(f"base/kustomization.yaml: resource {res} does not exist")
    generators = {g.get("name"): g for g in kustomization.get("configMapGenerator", [])}
    if generators.get("image-janitor", {}).get("envs") != ["settings.env"]:
        problem("base/kustomization.yaml: want configMapGenerator image-janitor from settings.env (pods roll on change)")
    for comp_dir in sorted(p.parent for p in (K8S / "components").glob("*/kustomization.yaml")):
        comp = load_yaml(comp_dir / "kustomization.yaml")
        if comp.get("kind") != "Component":
            problem(f"components/{comp_dir.name}/kustomization.yaml: kind must be Component")
        for res in comp.get("resources", []) + [p.get("path") for p in comp.get("patches", [])]:
            if res and not (comp_dir / res).exists():
                problem(f"components/{comp_dir.name}: {res} does not exist")
    comp = load_yaml(COMPONENT / "kustomization.yaml")

    namespace = kustomization.get("namespace")
    sa = load_yaml(BASE / "serviceaccount.yaml")
    deploy = load_yaml(BASE / "deployment.yaml")
    svc = load_yaml(BASE / "service.yaml")
    smon = load_yaml(BASE / "servicemonitor.yaml")
    scaled = load_yaml(BASE / "keda-scaledobject.yaml")
    tauth = load_yaml(BASE / "keda-triggerauthentication.yaml")
    cron = load_yaml(COMPONENT / "cronjob-sweep.yaml")
    cm_name = "image-janitor"

    for doc in (sa, deploy, svc, smon, scaled, tauth, cron):
        if doc["metadata"].get("namespace") != namespace:
            problem(f"{doc['kind']}/{doc['metadata']['name']}: namespace is not {namespace!r}")

    # --- ConfigMap vs CONTRACT §5 ---
    data = parse_env(SETTINGS_ENV)
    run_settings = {n: s for n, s in SETTINGS.items() if "run" in s.commands}
    for key in sorted(data):
        if key in run_settings or key.startswith("AWS_") or key == "RUST_LOG":
            continue
        problem(f"configmap: {key} is not a setting of `image-janitor run` (--help) nor AWS_* / RUST_LOG")
    for key in sorted(n for n, s in run_settings.items() if s.required and n not in data):
        problem(f"configmap: required setting {key} is missing")
    if "AWS_REGION" not in data:
        problem("configmap: AWS_REGION is missing")
    for key in sorted(n for n, s in run_settings.items() if s.value == "DURATION" and n in data):
        if duration_seconds(data[key]) is None:
            problem(f"configmap: {key}={data[key]!r} is not a duration like 500ms, 20s, 5m, 1h, 7d")
    wait = duration_seconds(data.get("JANITOR_WAIT_TIME", "20s"))
    if wait is not None and not 0 <= wait <= 20:
        problem("configmap: JANITOR_WAIT_TIME must be within 0-20s")
    for key in ("JANITOR_CONCURRENCY", "JANITOR_MAX_ATTEMPTS"):
        if key in data and not re.fullmatch(r"[1-9][0-9]*", data[key]):
            problem(f"configmap: {key}={data[key]!r} must be a positive integer")
    for key in ("JANITOR_S3_FORCE_PATH_STYLE", "JANITOR_DRY_RUN"):
        if key in data and data[key] not in ("true", "false"):
            problem(f"configmap: {key} must be 'true' or 'false'")
    if data.get("JANITOR_LOG_FORMAT", "json") not in ("json", "text"):
        problem("configmap: JANITOR_LOG_FORMAT must be json or text")
    if data.get("JANITOR_AUDIT", "on") not in ("on", "off"):
        problem("configmap: JANITOR_AUDIT must be on or off")
    if data.get("JANITOR_DRY_RUN") == "true":
        problem("configmap: JANITOR_DRY_RUN=true in the base would delete nothing in production")
    merges = comp.get("configMapGenerator", [])
    if merges != [{"name": cm_name, "behavior": "merge", "literals": ["JANITOR_SWEEP_INTERVAL=0"]}]:
        problem("components/cronjob-sweep: the generator merge must only set JANITOR_SWEEP_INTERVAL=0 on the base ConfigMap")

    # --- Pod specs ---
    pod = deploy["spec"]["template"]["spec"]
    grace = pod.get("terminationGracePeriodSeconds", 30)
    shutdown = duration_seconds(data.get("JANITOR_SHUTDOWN_TIMEOUT", "20s")) or 20
    if not grace > shutdown:
        problem(f"deployment: terminationGracePeriodSeconds {grace} must exceed JANITOR_SHUTDOWN_TIMEOUT {shutdown}s")
    http_port = int(data.get("JANITOR_HTTP_ADDR", "0.0.0.0:9090").rsplit(":", 1)[1])
    main = pod["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in main.get("ports", [])}
    if ports.get("metrics") != http_port:
        problem(f"deployment: port 'metrics' must be JANITOR_HTTP_ADDR's port {http_port}")
    if main.get("args") != ["run"]:
        problem("deployment: args must be ['run']")
    probes = (main.get("livenessProbe", {}).get("httpGet", {}).get("path"),
              main.get("readinessProbe", {}).get("httpGet", {}).get("path"))
    if probes != ("/healthz", "/readyz"):
        problem(f"deployment: liveness/readiness paths are {probes}, want /healthz, /readyz")
    cron_pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    if cron_pod["containers"][0].get("args") != ["sweep"]:
        problem("cronjob: args must be ['sweep']")
    if cron_pod["containers"][0]["image"] != main["image"]:
        problem("cronjob: image differs from the deployment's")
    for kind, spec in (("deployment", pod), ("cronjob", cron_pod)):
        if spec.get("serviceAccountName") != sa["metadata"]["name"]:
            problem(f"{kind}: serviceAccountName is not {sa['metadata']['name']!r}")
        sc = spec.get("securityContext", {})
        if not (sc.get("runAsNonRoot") and sc.get("runAsUser") == 10001
                and sc.get("seccompProfile", {}).get("type") == "RuntimeDefault"):
            problem(f"{kind}: pod securityContext must set runAsNonRoot, runAsUser 10001, seccomp RuntimeDefault")
        for c in containers(spec):
            refs = [e.get("configMapRef", {}).get("name") for e in c.get("envFrom", [])]
            if cm_name not in refs:
                problem(f"{kind}/{c['name']}: envFrom does not reference ConfigMap {cm_name}")
            if c.get("imagePullPolicy") != "IfNotPresent":
                problem(f"{kind}/{c['name']}: imagePullPolicy must be IfNotPresent (the image is pinned by digest)")
            csc = c.get("securityContext", {})
            if not (csc.get("readOnlyRootFilesystem") and csc.get("allowPrivilegeEscalation") is False
                    and csc.get("capabilities", {}).get("drop") == ["ALL"]):
                problem(f"{kind}/{c['name']}: container securityContext is not hardened")
            if not re.fullmatch(r"[^@\s]+@sha256:[0-9a-f]{64}", c.get("image", "")):
                problem(f"{kind}/{c['name']}: image must be pinned by digest")

    pod_labels = deploy["spec"]["template"]["metadata"]["labels"]
    sel = deploy["spec"]["selector"]["matchLabels"]
    if any(pod_labels.get(k) != v for k, v in sel.items()):
        problem("deployment: selector does not match the pod template labels")
    if any(pod_labels.get(k) != v for k, v in svc["spec"]["selector"].items()):
        problem("service: selector does not match the deployment's pods")
    cron_labels = cron["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
    if all(cron_labels.get(k) == v for k, v in sel.items()):
        problem("cronjob: pod labels must not match the deployment's selector")
    svc_ports = {p["name"] for p in svc["spec"]["ports"]}
    if any(e.get("port") not in svc_ports for e in smon["spec"]["endpoints"]):
        problem("servicemonitor: endpoint port is not a named Service port")
    if any(svc["metadata"]["labels"].get(k) != v for k, v in smon["spec"]["selector"]["matchLabels"].items()):
        problem("servicemonitor: selector does not match the Service labels")

    # --- KEDA ---
    target = scaled["spec"]["scaleTargetRef"]
    if target.get("name") != deploy["metadata"]["name"]:
        problem("scaledobject: scaleTargetRef is not the deployment")
    if (scaled["spec"].get("minReplicaCount"), scaled["spec"].get("maxReplicaCount")) != (1, 10):
        problem("scaledobject: replicas must range 1..10")
    triggers = scaled["spec"].get("triggers", [])
    if len(triggers) != 1 or triggers[0].get("type") != "aws-sqs-queue":
        problem("scaledobject: want exactly one aws-sqs-queue trigger")
    else:
        meta = triggers[0].get("metadata", {})
        if "queueURL" in meta or meta.get("queueURLFromEnv") != "JANITOR_QUEUE_URL":
            problem("scaledobject: want queueURLFromEnv JANITOR_QUEUE_URL (the pod's own setting), no queueURL copy")
        if "cooldownPeriod" in scaled["spec"] and scaled["spec"].get("minReplicaCount", 0) > 0:
            problem("scaledobject: cooldownPeriod applies only to scale-to-zero; drop it with minReplicaCount > 0")
        if meta.get("awsRegion") != data.get("AWS_REGION"):
            problem("scaledobject: awsRegion differs from the ConfigMap's AWS_REGION")
        if meta.get("queueLength") != "50" or meta.get("scaleOnInFlight") != "true":
            problem("scaledobject: want queueLength '50' and scaleOnInFlight 'true' (strings)")
        auth = triggers[0].get("authenticationRef", {}).get("name")
        if auth != tauth["metadata"]["name"]:
            problem("scaledobject: authenticationRef is not the TriggerAuthentication")
    if tauth["spec"].get("podIdentity", {}).get("provider") != "aws":
        problem("triggerauthentication: podIdentity.provider must be aws")

    # --- Terraform naming ---
    name = tf_default(TF_EXAMPLE, "name") or "image-janitor"
    region, _, qname = sqs_queue(data.get("JANITOR_QUEUE_URL", ""))
    if qname != name:
        problem(f"configmap: JANITOR_QUEUE_URL names queue {qname!r}, terraform creates {name!r}")
    if region != data.get("AWS_REGION"):
        problem(f"configmap: JANITOR_QUEUE_URL region {region!r} differs from AWS_REGION")
    if "JANITOR_DLQ_URL" in data:
        dregion, _, dname = sqs_queue(data["JANITOR_DLQ_URL"])
        if dname != f"{name}-dlq" or dregion != region:
            problem(f"configmap: JANITOR_DLQ_URL must be the {name}-dlq queue in {region}")
    tf_region = tf_default(TF_EXAMPLE, "region")
    if tf_region and tf_region != data.get("AWS_REGION"):
        problem(f"configmap: AWS_REGION {data.get('AWS_REGION')!r} differs from terraform's {tf_region!r}")
    buckets = data.get("JANITOR_BUCKETS", "").split(",")
    if buckets[0] != tf_default(TF_EXAMPLE, "bucket_name"):
        problem("configmap: the first of JANITOR_BUCKETS is not terraform's bucket_name")
    if data.get("JANITOR_PREFIX") != tf_default(TF_EXAMPLE, "prefix"):
        problem("configmap: JANITOR_PREFIX differs from terraform's prefix")
    mrc = tf_default(TF_MODULE, "max_receive_count")
    if mrc and int(data.get("JANITOR_MAX_ATTEMPTS", "5")) >= int(mrc):
        problem(f"configmap: JANITOR_MAX_ATTEMPTS must be below terraform's max_receive_count {mrc}")
    if namespace != tf_default(TF_MODULE, "namespace"):
        problem("kustomization: namespace differs from terraform's namespace (IRSA trust)")
    if sa["metadata"]["name"] != tf_default(TF_MODULE, "service_account_name"):
        problem("serviceaccount: name differs from terraform's service_account_name (IRSA trust)")
    role = sa["metadata"].get("annotations", {}).get("eks.amazonaws.com/role-arn", "")
    if not re.fullmatch(r"arn:aws[a-z-]*:iam::\d{12}:role/%s-worker" % re.escape(name), role):
        problem(f"serviceaccount: eks.amazonaws.com/role-arn must be terraform's {name}-worker role")
    keda_role = tauth["spec"].get("podIdentity", {}).get("roleArn", "")
    if keda_role and not keda_role.endswith(f":role/{name}-keda-scaler"):
        problem(f"triggerauthentication: roleArn must be terraform's {name}-keda-scaler role")


# ---------------------------------------------------------------------------
# Prometheus rules and the dashboard
# ---------------------------------------------------------------------------


def render_prometheusrule() -> str:
    src = RULES.read_text(encoding="utf-8")
    body = src.split("groups:\n", 1)[1]
    indented = "".join(("  " + line if line.strip() else line) for line in body.splitlines(True))
    return (
        "---\n"
        "# The alerting rules of infra/prometheus/rules.yml as a Prometheus Operator\n"
        "# PrometheusRule. Keep the two identical (scripts/check_settings.py checks;\n"
        "# `python3 scripts/check_settings.py --fix` regenerates this file).\n"
        "apiVersion: monitoring.coreos.com/v1\n"
        "kind: PrometheusRule\n"
        "metadata:\n"
        "  name: image-janitor\n"
        "  namespace: image-janitor\n"
        "  labels:\n"
        "    app.kubernetes.io/name: image-janitor\n"
        "    # The `release` label kube-prometheus-stack's ruleSelector wants is\n"
        "    # added by the kustomization (one setting for this and the ServiceMonitor).\n"
        "    role: alert-rules\n"
        "spec:\n"
        "  groups:\n" + indented
    )


def metric_names(expr: str) -> set[str]:
    # kube_* names are all returned: check_metric flags those not in KUBE_STATE_METRICS.
    return (
        set(re.findall(r"(?<![:\w])(janitor_[a-z0-9_]+)\b", expr))
        | (set(re.findall(r"\b(up)\s*[{(\[]", expr)) & PROMETHEUS_BUILTINS)
        | set(re.findall(r"\b(kube_[a-z0-9_]+)\b", expr))
    )


def check_metric(where: str, name: str) -> None:
    """Rules and panels use only series that a just-started daemon exposes (zero-initialised in
    src/telemetry/metrics.rs), histograms through _bucket/_sum/_count."""
    hist = histograms()
    base = name
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and name[: -len(suffix)] in hist:
            base = name[: -len(suffix)]
    if base in PROMETHEUS_BUILTINS or base in KUBE_STATE_METRICS:
        return
    if base not in METRICS:
        problem(f"{where}: {name} is not among the series /metrics shows at start-up "
                "(unknown, or not zero-initialised in src/telemetry/metrics.rs)")
    if base in hist and base == name:
        problem(f"{where}: histogram {name} used without _bucket/_sum/_count")


def check_rules() -> None:
    rules = load_yaml(RULES)
    promrule = load_yaml(PROMRULE)
    if promrule.get("kind") != "PrometheusRule":
        problem("prometheusrule.yaml: kind is not PrometheusRule")
    if promrule.get("spec", {}).get("groups") != rules.get("groups"):
        problem("prometheusrule.yaml and infra/prometheus/rules.yml differ (run scripts/check_settings.py --fix)")
    alerts = {}
    for group in rules.get("groups", []):
        for rule in group.get("rules", []):
            expr = str(rule.get("expr", ""))
            where = f"rules.yml: {rule.get('alert') or rule.get('record')}"
            for m in re.finditer(r"\b(sum|max|min|avg|count)\s*(by\s*\(([^)]*)\))?\s*\(", expr):
                if not m.group(2):
                    problem(f"{where}: {m.group(1)}(...) without `by (namespace, ...)` merges namespaces")
                elif "namespace" not in [x.strip() for x in m.group(3).split(",")]:
                    problem(f"{where}: {m.group(0).strip()} drops the namespace label")
            for metric in metric_names(expr):
                check_metric(where, metric)
            if "record" in rule:
                if not re.fullmatch(r"janitor:[a-z0-9_]+:[a-z0-9_]+", rule["record"]):
                    problem(f"{where}: recording rule names are janitor:<metric>:<aggregation>")
                continue
            if "alert" not in rule:
                continue
            name = rule["alert"]
            if not rule.get("for"):
                problem(f"rules.yml: alert {name} has no `for:`")
            if name in alerts:
                problem(f"rules.yml: alert {name} defined twice")
            alerts[name] = rule
            ann = rule.get("annotations", {})
            for key in ("summary", "description", "runbook_url"):
                if not str(ann.get(key, "")).strip():
                    problem(f"rules.yml: alert {name} has no {key}")
            url = str(ann.get("runbook_url", ""))
            if not re.fullmatch(re.escape(RUNBOOK_PREFIX) + r"[a-z0-9-]+", url):
                problem(f"rules.yml: alert {name} runbook_url must be {RUNBOOK_PREFIX}<anchor>")
            if rule.get("labels", {}).get("severity") not in ("warning", "critical", "info"):
                problem(f"rules.yml: alert {name} needs a severity label")
    for name in sorted(EXPECTED_ALERTS - set(alerts)):
        problem(f"rules.yml: missing alert {name}")


def check_dashboard() -> None:
    try:
        dash = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        problem(f"grafana: {DASHBOARD.name} does not parse: {exc}")
        return
    variables = {v.get("name"): v for v in dash.get("templating", {}).get("list", [])}
    ds = variables.get("datasource")
    if not ds or ds.get("type") != "datasource" or ds.get("query") != "prometheus":
        problem("grafana: needs a templated variable 'datasource' of type datasource, query prometheus")
    exprs = []

    def walk(panels):
        for panel in panels:
            walk(panel.get("panels", []))
            if panel.get("type") == "row":
                continue
            uid = (panel.get("datasource") or {}).get("uid")
            if uid != "${datasource}":
                problem(f"grafana: panel {panel.get('title')!r} does not use ${{datasource}}")
            for target in panel.get("targets", []):
                exprs.append((panel.get("title"), target.get("expr", "")))

    walk(dash.get("panels", []))
    ns = variables.get("namespace")
    if not ns or ns.get("includeAll") or ns.get("multi"):
        problem("grafana: needs a single-valued 'namespace' variable (staging and production never added up)")
    if "cluster" not in variables:
        problem("grafana: needs a 'cluster' variable")
    used = set()
    for title, expr in exprs:
        for metric in metric_names(expr):
            check_metric(f"grafana panel {title!r}", metric)
            used.add(metric)
        for m in re.finditer(r"(?<![:\w])(janitor[_:][a-z0-9_:]+|up)(\{[^}]*\})?(?![\w(])", expr):
            if 'namespace="$namespace"' not in (m.group(2) or ""):
                problem(f"grafana panel {title!r}: {m.group(1)} is not restricted to namespace=\"$namespace\"")
    if not any("janitor_build_info" in e for _, e in exprs):
        problem("grafana: no build-info panel (janitor_build_info)")
    for rec in ("janitor:prefix_objects:latest", "janitor:prefix_bytes:latest",
                "janitor:prefix_oldest_object_age_seconds:latest"):
        if not any(rec in e for _, e in exprs):
            problem(f"grafana: no panel shows {rec}")
    text = "\n".join(e for _, e in exprs)
    for q in ("0.5", "0.9", "0.99"):
        if f"histogram_quantile({q}, sum by (le) (rate(janitor_message_latency_seconds_bucket" not in text:
            problem(f"grafana: no p{q[2:] or '50'} latency panel from janitor_message_latency_seconds_bucket")
    for metric in ("janitor_messages_acked_total", "janitor_messages_dead_lettered_total",
                   "janitor_messages_retried_total", "janitor_objects_deleted_total",
                   "janitor_delete_errors_total", "janitor_inflight_messages", "janitor_queue_messages",
                   "janitor_sweeps_total", "janitor_aws_requests_total"):
        if metric not in used:
            problem(f"grafana: no panel uses {metric}")
    if not re.search(r"janitor_aws_requests_total.*\)\s*/\s*(scalar\()?sum\(rate\(janitor_messages_acked_total", text):
        problem("grafana: no 'AWS requests per acked message' panel")


def check_skips() -> None:
    """Every inline checkov skip names a check and gives a reason."""
    files = [ROOT / "Dockerfile"] + [p for p in (ROOT / "infra").rglob("*") if p.is_file()]
    for path in files:
        if not path.is_file():
            continue
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for m in re.finditer(r"checkov:skip\S*?[=:]\s*(\S[^\n]*)", line):
                if not re.match(r"CKV2?_[A-Z0-9]+_\d+\s*:\s*\S.{9,}", m.group(1)):
                    problem(f"{path.relative_to(ROOT)}:{lineno}: checkov skip without a check id and reason")


def check_rendered(directory: Path) -> None:
    """The output of `kubectl kustomize` for every base, component and overlay."""
    files = sorted(directory.glob("*.yaml"))
    if not files:
        problem(f"rendered: no rendered manifests in {directory}")
    rules = load_yaml(RULES)
    for path in files:
        docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
        where = f"rendered {path.stem}"
        configmaps = {d["metadata"]["name"] for d in docs if d.get("kind") == "ConfigMap"}
        for doc in docs:
            kind, meta = doc.get("kind"), doc.get("metadata", {})
            if kind in ("Deployment", "CronJob"):
                spec = doc["spec"]["template"]["spec"] if kind == "Deployment" else \
                    doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
                for c in containers(spec):
                    for ref in c.get("envFrom", []):
                        name = ref.get("configMapRef", {}).get("name")
                        if name and name not in configmaps:
                            problem(f"{where}: {kind}/{c['name']} refers to missing ConfigMap {name}")
                        if name == "image-janitor":
                            problem(f"{where}: {kind}/{c['name']} refers to the unhashed ConfigMap name")
            if kind in ("ServiceMonitor", "PrometheusRule") and not meta.get("labels", {}).get("release"):
                problem(f"{where}: {kind} has no `release` label (kube-prometheus-stack ignores it)")
            if kind == "PrometheusRule" and doc.get("spec", {}).get("groups") != rules.get("groups"):
                problem(f"{where}: PrometheusRule differs from infra/prometheus/rules.yml")
        if path.stem.endswith("production"):
            text = path.read_text(encoding="utf-8")
            for placeholder in PLACEHOLDERS:
                if placeholder in text:
                    problem(f"{where}: still holds the placeholder {placeholder}")
            if 'kubernetes.io/metadata.name: monitoring' in text:
                problem(f"{where}: the NetworkPolicy still admits the placeholder namespace 'monitoring'")


def main() -> int:
    rendered = None
    if "--rendered" in sys.argv[1:]:
        rendered = Path(sys.argv[sys.argv.index("--rendered") + 1])
    binary = BINARY
    if "--binary" in sys.argv[1:]:
        binary = Path(sys.argv[sys.argv.index("--binary") + 1])
    if "--fix" in sys.argv[1:]:
        PROMRULE.write_text(render_prometheusrule(), encoding="utf-8")
        print(f"check_settings: wrote {PROMRULE.relative_to(ROOT)}")
    try:
        SETTINGS.update(binary_surface.settings(binary))
        METRICS.update(binary_surface.metrics(binary))
    except (binary_surface.SurfaceError, OSError, subprocess.SubprocessError) as exc:
        print(f"check_settings: cannot read settings and metrics from the binary: {exc}", file=sys.stderr)
        return 1
    checks = [check_contract, check_configuration_md, check_metrics_md, check_kubernetes,
              check_rules, check_dashboard, check_skips]
    if rendered is not None:
        checks.append(lambda: check_rendered(rendered))
    for check in checks:
        try:
            check()
        except (KeyError, IndexError, TypeError, ValueError, AttributeError, OSError, yaml.YAMLError) as exc:
            problem(f"{getattr(check, '__name__', 'check')}: malformed input: {exc!r}")
    for msg in problems:
        print(f"check_settings: {msg}", file=sys.stderr)
    if problems:
        print(f"check_settings: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    what = " and the rendered manifests" if rendered is not None else ""
    print(f"check_settings: docs, settings, KEDA, IRSA, terraform names, alerts, dashboard{what} agree"
          f" with the binary ({len(SETTINGS)} settings from --help, {len(METRICS)} metrics from"
          " /metrics at start-up; rules and dashboard use only those)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
