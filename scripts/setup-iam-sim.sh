#!/usr/bin/env bash
# Install the strict fault proxy's IAM evaluator (tests/iam-sim: @cloud-copilot/iam-simulate,
# pinned by package-lock.json) with `npm ci`, unless the locked version is already installed.
# Test-only (AGPL-3.0): never shipped, excluded from the container build context.
set -euo pipefail
cd "$(dirname "$0")/../tests/iam-sim"
command -v node >/dev/null || { echo "node (>= 20) is required for the strict-mode tests" >&2; exit 1; }
want=$(node -p "require('./package-lock.json').packages['node_modules/@cloud-copilot/iam-simulate'].version")
have=$(node -p "try { require('./node_modules/@cloud-copilot/iam-simulate/package.json').version } catch { '' }")
if [ "$want" = "$have" ]; then
  exit 0
fi
echo "== installing @cloud-copilot/iam-simulate@$want into tests/iam-sim (npm ci)"
npm ci --no-audit --no-fund --loglevel=error
