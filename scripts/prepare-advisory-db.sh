#!/usr/bin/env bash
# Lay out the offline RustSec advisory database where deny.toml expects it.
#
# cargo-deny wants the advisory db as a git work tree with at least one
# commit, in a folder named after the hash of its source URL
# (advisory-db-3157b0e258782691 for https://github.com/rustsec/advisory-db)
# under [advisories] db-path (.cache/advisory-db). The snapshot shipped in
# shared/advisory-db is a plain, read-only directory, so copy it and commit it.
#
# Source: $ADVISORY_DB_SRC, default ../shared/advisory-db relative to the repo
# root. Idempotent: an up-to-date copy is left alone.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="${ADVISORY_DB_SRC:-${ROOT}/../shared/advisory-db}"
DEST_PARENT="${ROOT}/.cache/advisory-db"
DEST="${DEST_PARENT}/advisory-db-3157b0e258782691"

if [[ ! -d "${SRC}/crates" ]]; then
  echo "prepare-advisory-db: no advisory db at ${SRC} (set ADVISORY_DB_SRC)" >&2
  exit 1
fi

# The snapshot's identity: its SNAPSHOT file names the upstream commit.
want="$(cat "${SRC}/SNAPSHOT" 2>/dev/null || echo "no-snapshot-file")"
stamp="${DEST_PARENT}/.snapshot-source"

if [[ -d "${DEST}/.git" && -f "${stamp}" ]] && [[ "$(cat "${stamp}")" == "${want}" ]] \
  && git -C "${DEST}" rev-parse --verify -q HEAD >/dev/null; then
  echo "prepare-advisory-db: ${DEST} is up to date"
  exit 0
fi

rm -rf "${DEST}"
mkdir -p "${DEST_PARENT}"
cp -R "${SRC}" "${DEST}"
chmod -R u+w "${DEST}"

if ! git -C "${DEST}" rev-parse --verify -q HEAD >/dev/null 2>&1; then
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
echo "prepare-advisory-db: ${DEST} ready ($(git -C "${DEST}" rev-parse --short HEAD))"
