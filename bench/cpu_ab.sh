#!/bin/bash
# CPU per request of two checkouts of the server, in turns on one release (before/after a change).
#
#   bench/cpu_ab.sh TILES BASELINE PATHS [ROUNDS] [SECONDS]
#
# TILES: a built tiles folder; BASELINE: a checkout of the code before the change (e.g.
# `git archive REV | tar -x -C /tmp/base`); PATHS: one request path per line (bench/serve.py
# --work DIR writes them: DIR/cql-ours.txt, DIR/features-ours.txt). Each round starts the
# baseline, then this checkout (`python -m publish serve`, 1 worker), warms it for 3 s and
# loads it with wrk -t2 -c16 (random paths, bench/serve.py's random.lua beside PATHS) for
# SECONDS; prints the load average before the measured run, requests/s and the server's CPU
# (utime + stime from /proc, of the server and its child processes) per request. Record only
# rows whose load was below 1.0. SERVER=granian runs both under granian (default: uvicorn, as
# bench/serve.py measures ours; granian's requests are served by a child process).
set -euo pipefail
TILES=$1; BASE=$2; PATHS=$3; ROUNDS=${4:-3}; SECS=${5:-10}; SERVER=${SERVER:-uvicorn}
HERE=$(cd "$(dirname "$0")/.." && pwd)
PY=$HERE/.venv/bin/python
LUA=$(dirname "$PATHS")/random.lua
cpu() { # the process and its children
  local total=0 p
  for p in "$1" $(pgrep -P "$1" || true); do
    total=$((total + $(awk '{print $14+$15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
run() { # checkout port
  (cd "$1" && exec "$PY" -m publish serve --tiles "$TILES" --port "$2" --workers 1 \
     --server "$SERVER" --log-level warning > /dev/null 2>&1) &
  local pid=$!
  for _ in $(seq 120); do curl -s -o /dev/null "http://127.0.0.1:$2/healthz" && break; sleep 0.5; done
  BENCH_PATHS=$PATHS wrk -t2 -c16 -d3s -s "$LUA" "http://127.0.0.1:$2" > /dev/null 2>&1
  local load before after out n
  load=$(cut -d' ' -f1 /proc/loadavg); before=$(cpu $pid)
  out=$(BENCH_PATHS=$PATHS wrk -t2 -c16 -d"${SECS}"s -s "$LUA" "http://127.0.0.1:$2" 2>&1 | grep BENCH_JSON)
  after=$(cpu $pid); n=$(echo "$out" | sed 's/.*"requests": \([0-9]*\).*/\1/')
  echo "$1 load $load requests $n req/s $((n / SECS)) cpu_us/req $(( (after - before) * 10000 / n ))"
  kill $pid; wait $pid 2>/dev/null || true; sleep 1
}
for _ in $(seq "$ROUNDS"); do run "$BASE" 8771; run "$HERE" 8772; done
