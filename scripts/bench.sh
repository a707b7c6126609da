#!/usr/bin/env bash
# Worker benchmark: a program that prints figures, not a timed test.
#
# Drains the same workload -- N page.created messages x k images -- against one moto emulator
# with each worker in turn, in one invocation: image-janitor (release build), two references
# -- per-receive (examples/per_receive_worker.rs: receive 10 -> one DeleteObjects -> one
# DeleteMessageBatch) and sqs-only (examples/sqs_only_worker.rs: receive 10 -> DeleteMessageBatch,
# no S3: the emulator's ceiling) -- and the seed's way (examples/naive_worker.rs: one
# DeleteObject per image, one DeleteMessage per message); all with the same SDK and 4 receive
# loops of 10. Prints drain time (the feeder's sends excluded), AWS requests per message (counted
# by a proxy in front of moto), the floor 0.2 + k/1000, peak RSS, CPU, and every ratio. See
# docs/performance.md for recorded runs and how to read them.
#
#   scripts/bench.sh                      # N=1000, k=5, waves of 100
#   scripts/bench.sh -k 1                 # one image per message (k=50: use -n 200)
#   scripts/bench.sh --backlog -n 2000    # all queued first
#   scripts/bench.sh --latency            # 5 msg/s for 60 s, k=1: p50/p99 publish -> ack
#   scripts/bench.sh --before /tmp/old/image-janitor   # also an older build, as "before"
#
# Options (env in brackets):
#   -n N                messages                        [BENCH_N, 1000]
#   -k K                images per message              [BENCH_K, 5; 1 with --latency]
#   --concurrency C     receive loops, every worker     [BENCH_CONCURRENCY, 4]
#   --wait S            long-poll seconds, every worker [BENCH_WAIT, 20]
#   --max-visible V     messages per wave               [BENCH_MAX_VISIBLE, 100]
#   --backlog           queue all N before starting each worker, instead of waves
#   --latency           light load instead: --rate msg/s for --duration s, one SendMessage each
#   --rate R            [5]   --duration S  [60]
#   --only LIST         comma-separated subset of ours,before,per-receive,sqs-only,seed
#   --before BIN        another image-janitor binary, run as "before"
#   --variant NAME=BIN  one more image-janitor binary (or wrapper script) run as NAME; repeatable
#   --stock-moto        run moto as shipped; by default its SQS deletes are made atomic
#                       (scripts/bench/moto_locked.py: moto loses deletes under concurrent
#                       DeleteMessageBatch calls, which distorts drain times)
#   --lean-moto         also drop moto's per-message queue scan in ReceiveMessage (a receive
#                       costs moto messages returned x messages held; real SQS does not):
#                       a diagnostic of how much of a gap is that cost
#   --json FILE         write raw results (default .cache/bench/results.json)
#   --svg FILE          also write a chart (messages acknowledged over drain time)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"

n="${BENCH_N:-1000}"
k="${BENCH_K:-}"
concurrency="${BENCH_CONCURRENCY:-4}"
wait_s="${BENCH_WAIT:-20}"
max_visible="${BENCH_MAX_VISIBLE:-100}"
only=""
backlog=""
latency=""
rate=5
duration=60
before=""
variants=()
json_out=".cache/bench/results.json"
svg_out=""
stock_moto=""
lean_moto=""

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    -n) n="$2"; shift 2 ;;
    -k) k="$2"; shift 2 ;;
    --concurrency) concurrency="$2"; shift 2 ;;
    --wait) wait_s="$2"; shift 2 ;;
    --max-visible) max_visible="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    --backlog) backlog=1; shift ;;
    --latency) latency=1; shift ;;
    --rate) rate="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --before) before="$2"; shift 2 ;;
    --variant) variants+=(--variant "$2"); shift 2 ;;
    --json) json_out="$2"; shift 2 ;;
    --stock-moto) stock_moto=1; shift ;;
    --lean-moto) lean_moto=1; shift ;;
    --svg) svg_out="$2"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

if [[ -z "${k}" ]]; then
  if [[ -n "${latency}" ]]; then k=1; else k=5; fi
fi
target_dir="${CARGO_TARGET_DIR:-target}"
case "${target_dir}" in /*) target_abs="${target_dir}" ;; *) target_abs="${ROOT}/${target_dir}" ;; esac
workdir="${ROOT}/.cache/bench"
mkdir -p "${workdir}"

MOTO_PID=""
PROXY_PID=""
cleanup() {
  if [[ -n "${PROXY_PID}" ]]; then kill "${PROXY_PID}" 2>/dev/null || true; fi
  if [[ -n "${MOTO_PID}" ]]; then scripts/moto.sh stop "${MOTO_PID}"; fi
}
trap cleanup EXIT

echo "== emulator: moto (pinned by scripts/setup-moto.sh)"
scripts/setup-moto.sh
moto_version="$(.venv/bin/python -c 'import moto; print(moto.__version__)')"

echo "== building image-janitor and the comparator workers of examples/ (release)"
build_ok=""
for attempt in 1 2 3; do
  # The comparators (examples/*_worker.rs) build as their own package, scripts/bench/workers,
  # so that they reuse image-janitor's release dependencies (see its Cargo.toml).
  cp Cargo.lock scripts/bench/workers/Cargo.lock
  if cargo build --release --quiet --bin image-janitor &&
    cargo build --release --quiet --manifest-path scripts/bench/workers/Cargo.toml \
      --target-dir "${target_abs}"; then
    build_ok=1
    break
  fi
  echo "build failed (attempt ${attempt}); retrying in 60s in case a file was mid-edit" >&2
  sleep 60
done
[[ -n "${build_ok}" ]] || { echo "bench.sh: cargo build --release failed" >&2; exit 1; }

if [[ -n "${stock_moto}" ]]; then
  eval "$(scripts/moto.sh start)"
  moto_kind="stock"
elif [[ -n "${lean_moto}" ]]; then
  eval "$(MOTO_LOCKED_DELETES=1 MOTO_LEAN_RETENTION=1 scripts/moto.sh start)"
  moto_kind="SQS deletes made atomic, receives without the per-message queue scan: scripts/bench/moto_locked.py"
else
  eval "$(MOTO_LOCKED_DELETES=1 scripts/moto.sh start)"
  moto_kind="SQS deletes made atomic: scripts/bench/moto_locked.py"
fi
echo "== moto ${moto_version} (${moto_kind}) at ${MOTO_ENDPOINT} (pid ${MOTO_PID})"

port_file="${workdir}/proxy.port"
rm -f "${port_file}"
python3 scripts/bench/proxy.py --port 0 --target "${MOTO_ENDPOINT}" --port-file "${port_file}" \
  >"${workdir}/proxy.log" 2>&1 &
PROXY_PID=$!
for _ in $(seq 1 100); do
  [[ -s "${port_file}" ]] && break
  sleep 0.1
done
[[ -s "${port_file}" ]] || { echo "bench.sh: the counting proxy did not start; see ${workdir}/proxy.log" >&2; exit 1; }
proxy="http://127.0.0.1:$(cat "${port_file}")"
echo "== counting proxy at ${proxy} (pid ${PROXY_PID})"
echo "== machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "== load at start: $(uptime)"

args=(
  --moto "${MOTO_ENDPOINT}" --moto-pid "${MOTO_PID}" --moto-version "${moto_version}"
  --proxy "${proxy}"
  --janitor "${target_abs}/release/image-janitor" --examples "${target_abs}/release"
  -n "${n}" -k "${k}" --concurrency "${concurrency}" --wait "${wait_s}"
  --max-visible "${max_visible}" --workdir "${workdir}" --json-out "${json_out}"
)
[[ -n "${only}" ]] && args+=(--only "${only}")
[[ -n "${backlog}" ]] && args+=(--backlog)
[[ -n "${latency}" ]] && args+=(--latency --rate "${rate}" --duration "${duration}")
[[ -n "${before}" ]] && args+=(--before "${before}")
[[ ${#variants[@]} -gt 0 ]] && args+=("${variants[@]}")
[[ -n "${svg_out}" ]] && args+=(--svg-out "${svg_out}")
.venv/bin/python scripts/bench/bench.py "${args[@]}"
echo "== load at end: $(uptime)"
