#!/usr/bin/env bash
# The project's one test command (README; CI runs exactly this via .ci/run).
# Installs and starts everything the tests need on a fresh machine: the pinned moto emulator
# in a project-local venv, started on a free 127.0.0.1 port, and the pinned IAM evaluator the
# AWS-strict proxy uses (tests/iam-sim, npm ci); then format and lint checks, unit and
# integration tests (strict mode is the harness's default), and the offline
# infrastructure/supply-chain checks.
set -euo pipefail
cd "$(dirname "$0")/.."

section() { printf '\n== %s\n' "$*"; }

section "emulator (moto, project-local venv)"
scripts/setup-moto.sh
eval "$(scripts/moto.sh start)"
trap 'scripts/moto.sh stop "$MOTO_PID"' EXIT
echo "moto at $MOTO_ENDPOINT"
export MOTO_ENDPOINT

section "IAM evaluator for the AWS-strict proxy (node, tests/iam-sim)"
scripts/setup-iam-sim.sh

section "cargo fmt --check"
cargo fmt --all -- --check

section "cargo clippy -D warnings"
cargo clippy --all-targets --locked -- -D warnings

section "unit and integration tests"
cargo test --all-targets --locked -- --test-threads "${TEST_THREADS:-4}"

if [ -x scripts/lint.sh ]; then
  section "infrastructure, container and supply-chain checks"
  scripts/lint.sh
fi

section "all checks passed"
