#!/usr/bin/env bash
# Scaling benchmark: a program that prints figures, not a timed test.
#
# Throughput (messages/s drained) as image-janitor worker processes go 1 -> 2 -> 4 against the
# moto emulator, each next to the emulator's own ceiling at the same concurrency: the same number
# of processes of a trivial client (scripts/bench/trivial_client.py: ReceiveMessage(10) +
# DeleteMessageBatch, no S3 work). Also prints each janitor process's peak RSS and CPU seconds
# per 1,000 messages. See docs/performance.md ("Scaling") for a recorded run.
#
#   scripts/bench-scaling.sh                  # N=500, k=5, 1,2,4 processes, backlog
#   scripts/bench-scaling.sh -n 1000 --waves  # shallow queue fed in waves instead
#
# Options (env in brackets):
#   -n N                messages per run                     [BENCH_N, 500]
#   -k K                images per message                   [BENCH_K, 5]
#   --procs LIST        process counts                       [BENCH_PROCS, 1,2,4]
#   --concurrency C     receive loops per process            [BENCH_CONCURRENCY, 4]
#   --waves             feed in waves of <= 100 visible (bench.py's feeder; then the feeder,
#                       at ~100-150 msg/s, is the limit) instead of queueing all N first
#   --skip-trivial      do not measure the emulator's ceiling
#   --json FILE         raw results (default .cache/bench/scaling.json)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"

n="${BENCH_N:-500}"
k="${BENCH_K:-5}"
procs="${BENCH_PROCS:-1,2,4}"
concurrency="${BENCH_CONCURRENCY:-4}"
backlog=1
skip_trivial=""
json_out=".cache/bench/scaling.json"

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    -n) n="$2"; shift 2 ;;
    -k) k="$2"; shift 2 ;;
    --procs) procs="$2"; shift 2 ;;
    --concurrency) concurrency="$2"; shift 2 ;;
    --waves) backlog=""; shift ;;
    --skip-trivial) skip_trivial=1; shift ;;
    --json) json_out="$2"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench-scaling.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

workdir="${ROOT}/.cache/bench"
mkdir -p "${workdir}"

MOTO_PID=""
cleanup() {
  if [[ -n "${MOTO_PID}" ]]; then scripts/moto.sh stop "${MOTO_PID}"; fi
}
trap cleanup EXIT

echo "== emulator: moto (pinned by scripts/setup-moto.sh)"
scripts/setup-moto.sh
moto_version="$(.venv/bin/python -c 'import moto; print(moto.__version__)')"

echo "== building image-janitor (release)"
cargo build --release --quiet --bin image-janitor

eval "$(scripts/moto.sh start)"
echo "== moto ${moto_version} at ${MOTO_ENDPOINT} (pid ${MOTO_PID})"
echo "== machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"

args=(
  --moto "${MOTO_ENDPOINT}" --moto-pid "${MOTO_PID}" --moto-version "${moto_version}"
  --janitor target/release/image-janitor
  -n "${n}" -k "${k}" --procs "${procs}" --concurrency "${concurrency}"
  --workdir "${workdir}" --json-out "${json_out}"
)
[[ -n "${backlog}" ]] && args+=(--backlog)
[[ -n "${skip_trivial}" ]] && args+=(--skip-trivial)
.venv/bin/python scripts/bench/scaling.py "${args[@]}"
