#!/usr/bin/env bash
# Mutation testing of the pure core (issue 15) with cargo-mutants: a report, not part of
# scripts/test.sh (about 10-30 s a mutant, a few hundred mutants). Re-runnable: installs
# cargo-mutants if missing, mutates only the modules that need no emulator, and runs the unit
# tests only (`cargo test --lib`). The report per module is printed at the end and recorded in
# docs/testing.md by hand.
#
#   scripts/mutants.sh                    # every module below
#   scripts/mutants.sh retry reason       # only these
#   scripts/mutants.sh --list             # list the mutants, run nothing
#
# Modules: s3url (URL parsing, src/s3url/), policy (the location policy, src/s3url/policy.rs),
# message (message parsing), config (config validation), aws_error (error classification),
# retry (retry schedule), reason (dead-letter reasons).
#
# Env: MUTANTS_JOBS (1: the machine is shared), MUTANTS_TIMEOUT (per-mutant test timeout,
# seconds; 120), MUTANTS_BUILD_TIMEOUT (seconds; 900), MUTANTS_OUT (target/mutants-report; a
# subdirectory per set of modules, e.g. retry-reason/mutants.out),
# MUTANTS_TARGET_DIR (target/mutants-build: a cargo target dir kept between runs, seeded once
# from target/debug so that dependencies are not rebuilt), MUTANTS_BASELINE (run; `skip` when the
# unit tests are known to pass, saving one full test run).
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_MUTANTS_VERSION="${CARGO_MUTANTS_VERSION:-}"
JOBS="${MUTANTS_JOBS:-1}"
TIMEOUT="${MUTANTS_TIMEOUT:-120}"
BUILD_TIMEOUT="${MUTANTS_BUILD_TIMEOUT:-900}"
OUT_ROOT="${MUTANTS_OUT:-target/mutants-report}"
TARGET_DIR="${MUTANTS_TARGET_DIR:-$PWD/target/mutants-build}"

declare -A FILES=(
  [s3url]="src/s3url/mod.rs src/s3url/parse.rs src/s3url/endpoint.rs src/s3url/key.rs src/s3url/bucket.rs src/s3url/quote.rs"
  [policy]="src/s3url/policy.rs"
  [message]="src/message.rs"
  [config]="src/config/mod.rs src/config/dlq.rs"
  [aws_error]="src/aws_error.rs"
  [retry]="src/retry.rs"
  [reason]="src/reason.rs"
)
ORDER=(retry aws_error reason policy s3url message config)

list=0
modules=()
for arg in "$@"; do
  case "$arg" in
    --list) list=1 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *)
      if [ -z "${FILES[$arg]+x}" ]; then
        echo "unknown module: $arg (one of: ${ORDER[*]})" >&2
        exit 2
      fi
      modules+=("$arg") ;;
  esac
done
[ "${#modules[@]}" -gt 0 ] || modules=("${ORDER[@]}")

if ! cargo mutants --version >/dev/null 2>&1; then
  echo "installing cargo-mutants (cargo install --locked) ..." >&2
  if [ -n "$CARGO_MUTANTS_VERSION" ]; then
    cargo install --locked cargo-mutants --version "$CARGO_MUTANTS_VERSION"
  else
    cargo install --locked cargo-mutants
  fi
fi
cargo mutants --version >&2

file_args=()
for m in "${modules[@]}"; do
  for f in ${FILES[$m]}; do
    [ -f "$f" ] || { echo "missing $f: has the module moved? update FILES in $0" >&2; exit 2; }
    file_args+=(--file "$f")
  done
done

if [ "$list" = 1 ]; then
  exec cargo mutants --list "${file_args[@]}"
fi

# cargo-mutants builds a copy of the tree; a target dir kept between runs (and seeded from the
# normal one, timestamps kept, or cargo sees every dependency as dirty) means only this crate
# is rebuilt, not the AWS SDK.
if [ ! -d "$TARGET_DIR/debug" ] && [ -d target/debug/deps ]; then
  echo "seeding $TARGET_DIR from target/debug (once) ..." >&2
  mkdir -p "$TARGET_DIR/debug"
  cp -a --reflink=auto target/debug/deps target/debug/build target/debug/.fingerprint \
    "$TARGET_DIR/debug/"
fi
export CARGO_TARGET_DIR="$TARGET_DIR"

# One report directory per set of modules, so runs over different modules do not overwrite
# each other.
OUT="$OUT_ROOT/$(IFS=-; echo "${modules[*]}")"
mkdir -p "$OUT"
status=0
cargo mutants "${file_args[@]}" \
  --jobs "$JOBS" --timeout "$TIMEOUT" --build-timeout "$BUILD_TIMEOUT" \
  --output "$OUT" --no-shuffle --baseline "${MUTANTS_BASELINE:-run}" \
  --cargo-arg=--lib || status=$?
# cargo-mutants exits 2 when mutants were missed, 3 on timeouts: the report says which.

report="$OUT/mutants.out"
printf '\n%-10s %7s %7s %7s %9s %8s\n' module caught missed timeout unviable caught%
for m in "${modules[@]}"; do
  pattern="^($(echo "${FILES[$m]}" | sed 's/ /|/g' | sed 's/\./\\./g')):"
  count() { { grep -E "$pattern" "$report/$1.txt" 2>/dev/null || true; } | wc -l; }
  c=$(count caught) mi=$(count missed) t=$(count timeout) u=$(count unviable)
  viable=$((c + mi + t))
  pct=$([ "$viable" -gt 0 ] && echo "scale=1; 100 * $c / $viable" | bc || echo "-")
  printf '%-10s %7d %7d %7d %9d %8s\n' "$m" "$c" "$mi" "$t" "$u" "$pct"
done
if [ -s "$report/missed.txt" ]; then
  printf '\nmissed (kill with a unit test, or list as equivalent in docs/testing.md):\n'
  cat "$report/missed.txt"
fi
exit "$status"
