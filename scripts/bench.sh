#!/usr/bin/env bash
# Worker benchmark: a program that prints figures, not a timed test.
#
# Drains N page.created messages x k images against the moto emulator twice in one invocation
# -- image-janitor (release build), then the seed's way (examples/naive_worker.rs: one
# DeleteObject per image, one DeleteMessage per message), same SDK, same 4 receive loops of 10 --
# and prints wall time, AWS requests per message (counted by a proxy in front of moto, cross-
# checked against janitor_aws_requests_total), the floor 0.2 + k/1000, peak RSS, CPU seconds,
# and the ratios. See docs/performance.md for a recorded run and how to read it.
#
#   scripts/bench.sh                      # N=1000, k=5
#   scripts/bench.sh -n 200 -k 3          # smaller
#   BENCH_N=500 scripts/bench.sh --svg assets/bench-worker.svg
#
# Options (env in brackets):
#   -n N                messages                        [BENCH_N, 1000]
#   -k K                images per message              [BENCH_K, 5]
#   --concurrency C     receive loops, both workers     [BENCH_CONCURRENCY, 4]
#   --wait S            long-poll seconds, both workers [BENCH_WAIT, 20]
#   --max-visible V     feeder keeps <= V visible       [BENCH_MAX_VISIBLE, 100]
#   --only ours|seed    run one side only
#   --json FILE         write raw results (default .cache/bench/results.json)
#   --svg FILE          also write a chart (messages drained over time)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"

n="${BENCH_N:-1000}"
k="${BENCH_K:-5}"
concurrency="${BENCH_CONCURRENCY:-4}"
wait_s="${BENCH_WAIT:-20}"
max_visible="${BENCH_MAX_VISIBLE:-100}"
only=""
json_out=".cache/bench/results.json"
svg_out=""

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
    --json) json_out="$2"; shift 2 ;;
    --svg) svg_out="$2"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

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

echo "== building image-janitor and examples/naive_worker (release)"
build_ok=""
for attempt in 1 2 3; do
  if cargo build --release --quiet --bin image-janitor --example naive_worker; then
    build_ok=1
    break
  fi
  echo "build failed (attempt ${attempt}); retrying in 60s in case a file was mid-edit" >&2
  sleep 60
done
[[ -n "${build_ok}" ]] || { echo "bench.sh: cargo build --release failed" >&2; exit 1; }

eval "$(scripts/moto.sh start)"
echo "== moto ${moto_version} at ${MOTO_ENDPOINT} (pid ${MOTO_PID})"

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

args=(
  --moto "${MOTO_ENDPOINT}" --moto-pid "${MOTO_PID}" --moto-version "${moto_version}"
  --proxy "${proxy}" --proxy-pid "${PROXY_PID}"
  --janitor target/release/image-janitor --naive target/release/examples/naive_worker
  -n "${n}" -k "${k}" --concurrency "${concurrency}" --wait "${wait_s}"
  --max-visible "${max_visible}" --workdir "${workdir}" --json-out "${json_out}"
)
[[ -n "${only}" ]] && args+=(--only "${only}")
[[ -n "${svg_out}" ]] && args+=(--svg-out "${svg_out}")
.venv/bin/python scripts/bench/bench.py "${args[@]}"
