#!/usr/bin/env bash
# Cost of routing and balancing: requests/s through Ferry with one --upstream against Ferry with
# a route table (9 routes, the matching one last) whose pool has 3 endpoints, round-robin.
# Loopback only; every run is bounded by DURATION. Needs samples/target/ferry.jar and wrk.
#   ./mvnw -q -DskipTests package && samples/bench/routing-bench.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
JAR=samples/target/ferry.jar
DURATION=${DURATION:-8s}
ROUNDS=${ROUNDS:-3}
[ -f "$JAR" ] || { echo "build first: ./mvnw -DskipTests package"; exit 1; }
command -v wrk >/dev/null || { echo "wrk needed (apt-get install wrk)"; exit 1; }

PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

origin() { # prints the port of a new BenchOrigin
  local out; out=$(mktemp)
  java -cp "$JAR" dev.ferry.samples.bench.BenchOrigin > "$out" 2>/dev/null & PIDS+=($!)
  for _ in $(seq 1 100); do [ -s "$out" ] && break; sleep 0.1; done
  head -1 "$out"
}
O1=$(origin); O2=$(origin); O3=$(origin)

ferry() { # $1 = label; rest = routing flags; prints "label rps"
  local label=$1; shift
  java -Xmx512m -jar "$JAR" -q -p 0 "$@" > /tmp/ferry-routing.out 2>&1 &
  local pid=$!; PIDS+=($pid)
  for _ in $(seq 1 100); do grep -q Listening /tmp/ferry-routing.out && break; sleep 0.1; done
  local port; port=$(grep Listening /tmp/ferry-routing.out | sed 's/.*://')
  wrk -t2 -c64 -d3s "http://127.0.0.1:$port/bytes/1024" > /dev/null   # warm-up
  local rps; rps=$(wrk -t2 -c64 -d"$DURATION" "http://127.0.0.1:$port/bytes/1024" | awk '/Requests\/sec/ {print $2}')
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo "$label $rps"
}

ROUTES=()
for i in 1 2 3 4 5 6 7 8; do ROUTES+=(--route "svc$i.example.test/api$i/=http://127.0.0.1:$O1"); done
ROUTES+=(--route "/bytes/=http://127.0.0.1:$O1,http://127.0.0.1:$O2,http://127.0.0.1:$O3")

RESULTS=$(mktemp)
for round in $(seq 1 "$ROUNDS"); do
  ferry single --upstream "http://127.0.0.1:$O1" | tee -a "$RESULTS"
  ferry routed "${ROUTES[@]}" | tee -a "$RESULTS"
done
median() { grep "^$1 " "$RESULTS" | awk '{print $2}' | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
S=$(median single); R=$(median routed)
awk -v s="$S" -v r="$R" 'BEGIN { printf "median single=%.0f routed=%.0f routed/single=%.3f\n", s, r, r / s }'
