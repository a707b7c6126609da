#!/usr/bin/env bash
# The offline lint of everything that is not Rust code: the container image,
# terraform, Kubernetes manifests, alerts, dashboard, scripts and the
# dependency policy (cargo deny). Called by scripts/test.sh; runs on a fresh
# machine with only python3 (3.9+), pip and cargo.
#
#   bash scripts/lint.sh
#
# Tools are pinned in scripts/lint-requirements.txt and installed once into
# .venv-lint (reinstalled when that file changes); cargo-deny is installed into
# .cache/tools. Every section runs; the script exits 1 if any failed.
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

export PYTHONDONTWRITEBYTECODE=1
export PIP_DISABLE_PIP_VERSION_CHECK=1
export PIP_NO_INPUT=1
export CKV_SKIP_PACKAGE_UPDATE_CHECK=true
export CKV_PARSE_ERROR_FAIL=true

started=${SECONDS}
failed=()

section() {
  printf '\n==> %s\n' "$*"
}

# run NAME CMD...: run one check, record its failure, keep going.
run() {
  local name="$1"
  shift
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

validate_manifests() {
  # Built-in kinds only: kubernetes-validate has no schemas for the KEDA and
  # Prometheus Operator CRDs (ScaledObject, TriggerAuthentication,
  # ServiceMonitor, PrometheusRule) and would only warn "schema unknown";
  # scripts/check_settings.py checks their structure instead. kustomization
  # files are not Kubernetes resources.
  local manifests=() crds=() f
  while IFS= read -r f; do
    if grep -qE '^apiVersion: (keda\.sh|monitoring\.coreos\.com)/' "${f}"; then
      crds+=("${f}")
    else
      manifests+=("${f}")
    fi
  done < <(find infra/kubernetes -name '*.yaml' ! -name 'kustomization.yaml' | sort)
  echo "CRD manifests (no schema, checked by check_settings.py): ${crds[*]}"
  kubernetes-validate --strict --quiet -k "${K8S_VERSION}" "${manifests[@]}"
  echo "${#manifests[@]} manifests valid against Kubernetes ${K8S_VERSION} (strict)"
}

check_terraform() {
  PYTHONPATH="${VENV}/python-hcl2" python scripts/check_terraform.py
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
  # .git never reach checkov (and its secrets scan).
  local stage rc
  stage="$(mktemp -d)"
  cp -R infra Dockerfile .dockerignore scripts deny.toml "${stage}/"
  [[ -d docs ]] && cp -R docs "${stage}/"
  rc=0
  checkov -d "${stage}" --skip-download --quiet --compact \
    --framework terraform kubernetes dockerfile secrets || rc=$?
  rm -rf "${stage}"
  return "${rc}"
}

check_settings() {
  python scripts/check_settings.py
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
  bash scripts/prepare-advisory-db.sh
  if [[ "$("${TOOLS_ROOT}/bin/cargo-deny" --version 2>/dev/null)" != "cargo-deny ${CARGO_DENY_VERSION}" ]]; then
    echo "installing cargo-deny ${CARGO_DENY_VERSION} into ${TOOLS_ROOT}"
    cargo install --locked --quiet --root "${TOOLS_ROOT}" --version "${CARGO_DENY_VERSION}" cargo-deny
  fi
  # cargo-deny reads `cargo metadata`, which needs the crates' manifests:
  # fetch them (network to crates.io only) so that --offline has them.
  cargo fetch --locked --quiet
  PATH="${TOOLS_ROOT}/bin:${PATH}" cargo deny --offline check
}

section "setup: pinned lint tools"
setup_venv
export PATH="${VENV}/bin:${PATH}"
export VIRTUAL_ENV="${VENV}"

run "shellcheck" lint_shell
run "hadolint Dockerfile" lint_dockerfile
run "yamllint infra/" lint_yaml
run "kubernetes-validate --strict" validate_manifests
run "terraform: python-hcl2 parse + module checks" check_terraform
run "terraform fmt -check" terraform_fmt
run "checkov (terraform, kubernetes, dockerfile, secrets)" run_checkov
run "settings, alerts and dashboard consistency" check_settings
run "python scripts" check_python
run "cargo deny --offline check" cargo_deny

section "summary ($((SECONDS - started))s)"
if ((${#failed[@]})); then
  printf 'FAILED: %s\n' "${failed[@]}"
  exit 1
fi
echo "all lint checks passed"
