#!/usr/bin/env bash
# Start moto on a free 127.0.0.1 port in the background.
# Usage: eval "$(scripts/moto.sh start)"  → exports MOTO_ENDPOINT and MOTO_PID
#        scripts/moto.sh stop "$MOTO_PID"
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-start}" in
  start)
    scripts/setup-moto.sh >&2
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
    mkdir -p .cache
    if [ "${MOTO_LOCKED_DELETES:-}" = 1 ]; then
      # Benchmarks: SQS deletes made atomic (see scripts/bench/moto_locked.py).
      .venv/bin/python scripts/bench/moto_locked.py -H 127.0.0.1 -p "$port" >".cache/moto-$port.log" 2>&1 &
    else
      .venv/bin/moto_server -H 127.0.0.1 -p "$port" >".cache/moto-$port.log" 2>&1 &
    fi
    pid=$!
    for _ in $(seq 1 150); do
      if curl -fsS "http://127.0.0.1:$port/moto-api/" >/dev/null 2>&1; then
        echo "export MOTO_ENDPOINT=http://127.0.0.1:$port MOTO_PID=$pid"
        exit 0
      fi
      sleep 0.2
    done
    echo "moto did not start; see .cache/moto-$port.log" >&2
    kill "$pid" 2>/dev/null || true
    exit 1
    ;;
  stop)
    kill "${2:?pid}" 2>/dev/null || true
    ;;
  *)
    echo "usage: $0 start|stop PID" >&2
    exit 2
    ;;
esac
