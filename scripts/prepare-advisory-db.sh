#!/usr/bin/env bash
# Lay out a local RustSec advisory database snapshot where deny.toml expects
# it, when there is one; otherwise say so and leave the fetch to cargo-deny.
#
#   bash scripts/prepare-advisory-db.sh
#
# Source, first found:
#   1. $ADVISORY_DB_SRC, when set (it must then exist: an explicit choice is
#      never silently replaced by a download);
#   2. ../shared/advisory-db relative to the repo root (this workspace's
#      read-only snapshot).
#
# cargo-deny wants the advisory db as a git work tree with at least one
# commit, in a folder named after the hash of its source URL
# (advisory-db-3157b0e258782691 for https://github.com/rustsec/advisory-db)
# under [advisories] db-path (.cache/advisory-db). A snapshot is a plain,
# read-only directory, so it is copied and committed there. Idempotent: an
# up-to-date copy is left alone.
#
# Exit status: 0 a local snapshot is ready (run `cargo deny --offline`);
# 3 there is no local snapshot (run `cargo deny` and let it fetch); 1 error.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
DEST_PARENT="${ROOT}/.cache/advisory-db"
DEST="${DEST_PARENT}/advisory-db-3157b0e258782691"

if [[ -n "${ADVISORY_DB_SRC:-}" ]]; then
  SRC="${ADVISORY_DB_SRC}"
  if [[ ! -d "${SRC}/crates" ]]; then
    echo "prepare-advisory-db: ADVISORY_DB_SRC=${SRC} is not an advisory db (no crates/ folder)" >&2
    exit 1
  fi
elif [[ -d "${ROOT}/../shared/advisory-db/crates" ]]; then
  SRC="$(cd "${ROOT}/../shared/advisory-db" && pwd)"
else
  echo "prepare-advisory-db: no local snapshot (ADVISORY_DB_SRC unset, no ../shared/advisory-db): cargo-deny fetches its own database"
  exit 3
fi

# The snapshot's identity: its SNAPSHOT file names the upstream commit.
want="$(cat "${SRC}/SNAPSHOT" 2>/dev/null || echo "no-snapshot-file")"
stamp="${DEST_PARENT}/.snapshot-source"

# DEST must be a repository of its own: inside this project's work tree a
# plain `git rev-parse HEAD` would find the project's repository instead.
own_repo() {
  [[ -d "${DEST}/.git" ]] \
    && [[ "$(git -C "${DEST}" rev-parse --show-toplevel 2>/dev/null)" == "${DEST}" ]] \
    && git -C "${DEST}" rev-parse --verify -q HEAD >/dev/null
}

if own_repo && [[ -f "${stamp}" && "$(cat "${stamp}")" == "${want}" ]]; then
  echo "prepare-advisory-db: local snapshot ${SRC} (${want%%$'\n'*}) already at ${DEST}"
  exit 0
fi

rm -rf "${DEST}"
mkdir -p "${DEST_PARENT}"
cp -R "${SRC}" "${DEST}"
chmod -R u+w "${DEST}"
DEST="$(cd "${DEST}" && pwd -P)"

if ! own_repo; then
  # A copy that is not a repository (or whose history did not come along).
  rm -rf "${DEST}/.git"
  git -C "${DEST}" init -q -b main
  git -C "${DEST}" add -A
  git -C "${DEST}" \
    -c user.name="advisory-db snapshot" -c user.email="advisory-db@localhost" \
    -c commit.gpgsign=false \
    commit -q -m "advisory-db snapshot: ${want%%$'\n'*}"
fi
printf '%s' "${want}" > "${stamp}"
echo "prepare-advisory-db: local snapshot ${SRC} (${want%%$'\n'*}) copied to ${DEST} ($(git -C "${DEST}" rev-parse --short HEAD))"
