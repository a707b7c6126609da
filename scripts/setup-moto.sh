#!/usr/bin/env bash
# Install the pinned moto server into the project-local venv (.venv) if it is not there yet.
set -euo pipefail
cd "$(dirname "$0")/.."
MOTO_VERSION="5.2.5"
if [ -x .venv/bin/moto_server ] && .venv/bin/python -c "import moto,sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
  exit 0
fi
echo "== installing moto[server]==$MOTO_VERSION into .venv"
python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check "moto[server]==$MOTO_VERSION"
