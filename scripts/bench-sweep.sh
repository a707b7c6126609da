#!/usr/bin/env bash
# Sweeper benchmark: `image-janitor sweep` vs `aws s3 rm --recursive` on moto, side by side in one
# run, on identical buckets of N stale objects. Prints wall time, requests and peak RSS per size,
# and writes the table under "## Sweeper" in docs/performance.md.
#
# Requests are counted independently of both tools, from moto's own request log (one line per
# HTTP request). Peak RSS comes from /usr/bin/time -v.
#
# usage: scripts/bench-sweep.sh            # sizes 5000 10000
#        SIZES="5000 10000 50000" scripts/bench-sweep.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=${SIZES:-"5000 10000"}
AWSCLI_VERSION=1.46.2
PREFIX=keep-images/
MAX_AGE_S=2
OUT=docs/performance.md

log() { printf '[bench] %s\n' "$*" >&2; }

# --- tools ------------------------------------------------------------------------------------
scripts/setup-moto.sh >&2
if ! .venv-bench/bin/aws --version 2>/dev/null | grep -q "aws-cli/$AWSCLI_VERSION "; then
  log "installing awscli==$AWSCLI_VERSION into .venv-bench"
  python3 -m venv .venv-bench
  .venv-bench/bin/pip install -q --disable-pip-version-check "awscli==$AWSCLI_VERSION"
fi
[ -x /usr/bin/time ] || { log "/usr/bin/time is required (apt-get install time)"; exit 1; }
# JANITOR_BIN=target/debug/image-janitor to skip the (slow) release build.
if [ -z "${JANITOR_BIN:-}" ]; then
  log "building image-janitor (release)"
  cargo build --release --quiet
fi
JANITOR=${JANITOR_BIN:-target/release/image-janitor}
BUILD=$(case "$JANITOR" in *release*) echo release ;; *) echo debug ;; esac)

# --- moto, with its request log -----------------------------------------------------------------
mkdir -p .cache
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
ENDPOINT="http://127.0.0.1:$port"
MOTO_LOG=".cache/bench-moto-$port.log"
.venv/bin/moto_server -H 127.0.0.1 -p "$port" >"$MOTO_LOG" 2>&1 &
MOTO_PID=$!
trap 'kill "$MOTO_PID" 2>/dev/null || true' EXIT
for _ in $(seq 1 150); do
  curl -fsS "$ENDPOINT/moto-api/" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "$ENDPOINT/moto-api/" >/dev/null

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true

# One werkzeug line per request; methods may be wrapped in ANSI colour codes.
requests_logged() { grep -caE ' HTTP/1\.[01][^"]*" [0-9]{3} ' "$MOTO_LOG" || true; }

# run NAME CMD...: time CMD, print "wall_s requests rss_mib" (requests seen by moto during CMD).
run() {
  local name=$1
  shift
  local before after start end
  before=$(requests_logged)
  start=$(date +%s.%N)
  /usr/bin/time -v -o ".cache/bench-$name.time" "$@" >".cache/bench-$name.out" 2>".cache/bench-$name.err"
  end=$(date +%s.%N)
  sleep 0.3 # let moto flush its log
  after=$(requests_logged)
  local rss_kib
  rss_kib=$(awk -F': ' '/Maximum resident set size/ {print $2}' ".cache/bench-$name.time")
  awk -v s="$start" -v e="$end" -v r="$((after - before))" -v k="$rss_kib" \
    'BEGIN { printf "%.2f %d %.1f\n", e - s, r, k / 1024 }'
}

remaining() { # bucket → objects left under the prefix
  # shellcheck disable=SC2016 # backticks are JMESPath, not shell
  .venv-bench/bin/aws s3api list-objects-v2 --endpoint-url "$ENDPOINT" --bucket "$1" \
    --prefix "$PREFIX" --query 'length(Contents || `[]`)' --output text
}

rows=()
for n in $SIZES; do
  curl -fsS -X POST "$ENDPOINT/moto-api/reset" >/dev/null
  ours="bench-janitor-$n"
  cli="bench-awscli-$n"
  log "uploading $n objects into each of $ours and $cli"
  t0=$(date +%s)
  .venv-bench/bin/python3 scripts/bench_upload.py "$ENDPOINT" "$ours" "$PREFIX" "$n"
  .venv-bench/bin/python3 scripts/bench_upload.py "$ENDPOINT" "$cli" "$PREFIX" "$n"
  log "uploaded in $(($(date +%s) - t0)) s"
  sleep $((MAX_AGE_S + 2))

  log "image-janitor sweep ($n)"
  read -r j_wall j_req j_rss < <(run "janitor-$n" env \
    JANITOR_QUEUE_URL="$ENDPOINT/123456789012/unused" JANITOR_BUCKETS="$ours" \
    JANITOR_PREFIX="$PREFIX" JANITOR_S3_FORCE_PATH_STYLE=true AWS_ENDPOINT_URL="$ENDPOINT" \
    "$JANITOR" sweep --max-age "${MAX_AGE_S}s")
  log "  $(tail -n 1 ".cache/bench-janitor-$n.out")"

  log "aws s3 rm --recursive ($n)"
  read -r a_wall a_req a_rss < <(run "awscli-$n" .venv-bench/bin/aws s3 rm \
    "s3://$cli/$PREFIX" --recursive --only-show-errors --endpoint-url "$ENDPOINT")

  j_left=$(remaining "$ours")
  a_left=$(remaining "$cli")
  if [ "$j_left" != 0 ] || [ "$a_left" != 0 ]; then
    log "objects left: janitor $j_left, awscli $a_left"
    exit 1
  fi
  rows+=("$n $j_wall $j_req $j_rss $a_wall $a_req $a_rss")
done

table=$(
  printf '| objects | image-janitor wall | requests | peak RSS | aws s3 rm wall | requests | peak RSS | speed-up |\n'
  printf '|---:|---:|---:|---:|---:|---:|---:|---:|\n'
  for row in "${rows[@]}"; do
    read -r n jw jr jm aw ar am <<<"$row"
    awk -v n="$n" -v jw="$jw" -v jr="$jr" -v jm="$jm" -v aw="$aw" -v ar="$ar" -v am="$am" \
      'BEGIN { printf "| %d | %.2f s | %d | %.1f MiB | %.2f s | %d | %.1f MiB | %.1f× |\n", n, jw, jr, jm, aw, ar, am, aw / jw }'
  done
)
printf '\n%s\n\n' "$table"

# --- docs/performance.md: replace (or add) the "## Sweeper" section only -------------------------
section=$(
  cat <<EOF
## Sweeper

\`scripts/bench-sweep.sh\` (SIZES="$SIZES"): \`image-janitor sweep --max-age ${MAX_AGE_S}s\`
($BUILD build, audit events on, written to a file) against
\`aws s3 rm s3://BUCKET/$PREFIX --recursive\` (awscli $AWSCLI_VERSION from PyPI, in \`.venv-bench\`),
one after the other in the same run, on two identical buckets of N stale objects in one
moto $(.venv/bin/python -c 'import moto; print(moto.__version__)') server on 127.0.0.1 ($(nproc) CPUs).
Requests are counted from moto's own request log (every HTTP request either tool made; the
janitor's 3 lease requests included); peak RSS is \`/usr/bin/time -v\`'s maximum resident set
size. Measured $(date -u +%Y-%m-%d).

$table

The janitor lists 1000 keys per ListObjectsV2 page and deletes 1000 keys per DeleteObjects
request, with listing and up to 4 deletes in flight at once: about 2 requests per 1000 objects,
and memory that does not grow with the bucket. \`aws s3 rm\` sends one DeleteObject per key
(plus its listing, and a few retries when moto errors under its concurrent deletes).
EOF
)
python3 - "$OUT" "$section" <<'PY'
import re, sys
path, section = sys.argv[1], sys.argv[2].rstrip() + "\n"
try:
    text = open(path).read()
except FileNotFoundError:
    text = "# Performance\n"
pattern = re.compile(r"^## Sweeper\n.*?(?=^## |\Z)", re.S | re.M)
if pattern.search(text):
    text = pattern.sub(lambda _: section + "\n", text, count=1)
else:
    text = text.rstrip() + "\n\n" + section
open(path, "w").write(text.rstrip() + "\n")
PY
log "wrote the Sweeper section of $OUT"
