#!/usr/bin/env bash
# Load benchmark: requests/s and p99 latency direct to a local origin and through Ferry in each
# concurrency model, 1 KiB and 100 KiB responses, 64 keep-alive connections, plus Ferry's RSS.
# Loopback only; every run is bounded by DURATION. Needs samples/target/ferry.jar and wrk.
#   ./mvnw -q -DskipTests package && samples/bench/run-bench.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
JAR=samples/target/ferry.jar
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
JDK25=/usr/lib/jvm/temurin-25-jdk-amd64
[ -f "$JAR" ] || { echo "build first: ./mvnw -DskipTests package"; exit 1; }
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null || { echo "wrk needed"; exit 1; }

PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

start_and_read_port() { # $1 = output file; rest = command
  local out=$1; shift
  "$@" > "$out" 2>/dev/null & PIDS+=($!)
  for _ in $(seq 1 100); do [ -s "$out" ] && break; sleep 0.1; done
}

measure() { # $1 = label, $2 = port
  for size in 1024 102400; do
    local result
    result=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "http://127.0.0.1:$2/bytes/$size")
    printf "%-22s %7s  rps=%-10s p99=%s\n" "$1" "$size" \
      "$(echo "$result" | awk '/Requests\/sec/ {print $2}')" \
      "$(echo "$result" | awk '$1 == "99%" {print $2}')"
  done
}

start_and_read_port /tmp/ferry-bench-origin.port java -cp "$JAR" dev.ferry.samples.bench.BenchOrigin
ORIGIN=$(head -1 /tmp/ferry-bench-origin.port)
measure direct "$ORIGIN"

run_ferry() { # $1 = label, $2 = java binary, $3 = concurrency, $4... = extra flags
  "$2" -Xmx512m -jar "$JAR" -q -p 0 -c "$3" --upstream "http://127.0.0.1:$ORIGIN" "${@:4}" > /tmp/ferry-bench.out 2>&1 &
  local pid=$!; PIDS+=($pid)
  for _ in $(seq 1 100); do grep -q Listening /tmp/ferry-bench.out && break; sleep 0.1; done
  local port; port=$(grep Listening /tmp/ferry-bench.out | sed 's/.*://')
  wrk -t2 -c"$CONNECTIONS" -d3s "http://127.0.0.1:$port/bytes/1024" > /dev/null   # warm-up
  measure "$1" "$port"
  echo "$1 rss_kb=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

run_ferry "ferry pool (jdk17)" java pool
run_ferry "ferry thread (jdk17)" java thread
if [ -x "$JDK25/bin/java" ]; then
  run_ferry "ferry virtual (jdk25)" "$JDK25/bin/java" virtual
  run_ferry "ferry cache hit (jdk25)" "$JDK25/bin/java" virtual -m 64
fi
