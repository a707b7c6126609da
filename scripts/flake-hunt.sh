#!/usr/bin/env bash
# Flake hunt: run tests N times in a row under CPU load and report, per test, how many runs
# passed and failed. A test that fails only sometimes depends on the machine's speed, not on
# the code: fix it with control (tests/common/faultproxy gates, backdating, polled conditions),
# never with a longer sleep.
#
# usage: scripts/flake-hunt.sh [-n RUNS] [-j LOAD_WORKERS] [-t TEST_THREADS] [--no-load] [TARGET...]
#   TARGET   an integration test file (`faults`, `sweeper_takeover`), optionally with a name
#            filter (`faults:slow_s3`), or `lib[:FILTER]` for the unit tests.
#            Default: every tests/*.rs.
#   -n       runs (default 3)
#   -j       load generators (default: the number of cores). stress-ng (Debian: stress-ng) when
#            installed, else shell busy loops.
#   -t       --test-threads for each test binary (default 4, as scripts/test.sh)
#   --no-load  no extra load (the machine's own load is still reported)
#
# It builds once, starts one moto for every run (as scripts/test.sh does) and needs the IAM
# evaluator installed (scripts/setup-iam-sim.sh). Logs: .cache/flake-hunt/run-R-TARGET.log
# (FLAKE_HUNT_OUT=DIR elsewhere: two hunts at once must not share it; it is emptied first).
# Exit 0 when every run of every test passed, 1 otherwise, 2 on bad usage.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=3
LOAD_WORKERS=$(nproc)
THREADS=4
LOAD=1
TARGETS=()
while [ $# -gt 0 ]; do
  case "$1" in
    -n) RUNS=${2:?-n needs a number}; shift 2 ;;
    -j) LOAD_WORKERS=${2:?-j needs a number}; shift 2 ;;
    -t) THREADS=${2:?-t needs a number}; shift 2 ;;
    --no-load) LOAD=0; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    -*) echo "flake-hunt: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) TARGETS+=("$1"); shift ;;
  esac
done
case "$RUNS$LOAD_WORKERS$THREADS" in
  *[!0-9]*) echo "flake-hunt: -n, -j and -t take whole numbers" >&2; exit 2 ;;
esac
if [ ${#TARGETS[@]} -eq 0 ]; then
  for f in tests/*.rs; do TARGETS+=("$(basename "$f" .rs)"); done
fi
for t in "${TARGETS[@]}"; do
  name=${t%%:*}
  if [ "$name" != lib ] && [ ! -f "tests/$name.rs" ]; then
    echo "flake-hunt: no integration test file tests/$name.rs" >&2
    exit 2
  fi
done

log() { printf '[flake-hunt] %s\n' "$*" >&2; }
load_now() { cut -d' ' -f1-3 /proc/loadavg; }

OUT=${FLAKE_HUNT_OUT:-.cache/flake-hunt}
rm -rf "$OUT"
mkdir -p "$OUT"

# Build every target once, before any load, so that runs measure tests, not compilation.
build_args=()
for t in "${TARGETS[@]}"; do
  name=${t%%:*}
  if [ "$name" = lib ]; then build_args+=(--lib); else build_args+=(--test "$name"); fi
done
log "building: ${build_args[*]}"
cargo test --locked --no-run "${build_args[@]}" >"$OUT/build.log" 2>&1 || {
  tail -30 "$OUT/build.log" >&2
  exit 1
}

PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -n "${MOTO_PID:-}" ]; then scripts/moto.sh stop "$MOTO_PID"; fi
}
trap cleanup EXIT

eval "$(scripts/moto.sh start)"
export MOTO_ENDPOINT
log "moto at $MOTO_ENDPOINT"

log "load before: $(load_now) on $(nproc) cores"
if [ "$LOAD" = 1 ] && [ "$LOAD_WORKERS" -gt 0 ]; then
  if command -v stress-ng >/dev/null; then
    stress-ng --cpu "$LOAD_WORKERS" --quiet >/dev/null 2>&1 &
    PIDS+=($!)
    log "load: stress-ng --cpu $LOAD_WORKERS"
  else
    for _ in $(seq 1 "$LOAD_WORKERS"); do
      (while :; do :; done) &
      PIDS+=($!)
    done
    log "load: $LOAD_WORKERS shell busy loops (install stress-ng for a better one)"
  fi
fi

declare -A PASS FAIL
ORDER=()
count() { # name result
  local key=$1
  if [ -z "${PASS[$key]+x}" ]; then PASS[$key]=0; FAIL[$key]=0; ORDER+=("$key"); fi
  if [ "$2" = ok ]; then PASS[$key]=$((PASS[$key] + 1)); else FAIL[$key]=$((FAIL[$key] + 1)); fi
}

started=$(date +%s)
for run in $(seq 1 "$RUNS"); do
  for t in "${TARGETS[@]}"; do
    name=${t%%:*}
    filter=""
    [ "$t" != "$name" ] && filter=${t#*:}
    if [ "$name" = lib ]; then sel=(--lib); else sel=(--test "$name"); fi
    logfile="$OUT/run-$run-${t//[:\/]/_}.log"
    t0=$(date +%s)
    set +e
    cargo test --locked "${sel[@]}" -- --test-threads "$THREADS" ${filter:+"$filter"} >"$logfile" 2>&1
    rc=$?
    set -e
    # `test NAME ... ok`; -o so that a test's own stderr on the same line cannot hide it.
    results=$(grep -oE 'test [^ ]+ \.\.\. (ok|FAILED)' "$logfile" || true)
    while IFS= read -r line; do
      [ -z "$line" ] && continue
      test=${line#test }
      test=${test% ... *}
      result=${line##* }
      count "$name::$test" "$result"
    done <<<"$results"
    if [ "$rc" -ne 0 ] && ! grep -qE 'test [^ ]+ \.\.\. FAILED' "$logfile"; then
      count "$name::<the test binary itself>" failed
    fi
    log "run $run/$RUNS $t: rc=$rc in $(($(date +%s) - t0))s, load $(load_now)"
  done
done

echo
printf '%-90s %6s %6s\n' "test" "passed" "failed"
flaky=0
for key in "${ORDER[@]}"; do
  printf '%-90s %6d %6d\n' "$key" "${PASS[$key]}" "${FAIL[$key]}"
  [ "${FAIL[$key]}" -gt 0 ] && flaky=$((flaky + 1))
done
echo
echo "runs: $RUNS; tests: ${#ORDER[@]}; with a failure: $flaky; $(($(date +%s) - started))s; load at the end: $(load_now) on $(nproc) cores"
if [ "$flaky" -gt 0 ]; then
  echo "failing runs' logs: $(grep -l -E 'FAILED|panicked' "$OUT"/run-*.log | tr '\n' ' ')"
  exit 1
fi
