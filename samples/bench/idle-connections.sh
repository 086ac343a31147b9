#!/usr/bin/env bash
# Resident memory per idle keep-alive connection: 10,000 connections held open on a Ferry using
# virtual threads (JDK 21+), or, with MODEL=auto JAVA=java on JDK 17, the bounded pool whose idle
# connections wait on a selector. Loopback only; bounded by the count and socket timeouts.
# The heap-free ratios let G1 hand freed heap back after the full GC, so RSS shows live memory.
#   ./mvnw -q -DskipTests package && samples/bench/idle-connections.sh [COUNT]
set -euo pipefail
cd "$(dirname "$0")/../.."
JAR=samples/target/ferry.jar
COUNT=${1:-10000}
JAVA=${JAVA:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
MODEL=${MODEL:-virtual}
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" -gt $((COUNT + 200)) ] || { echo "need ulimit -n above $COUNT"; exit 1; }
PIDS=()
trap 'for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done' EXIT

"$JAVA" -cp "$JAR" dev.ferry.samples.bench.BenchOrigin > /tmp/ferry-idle-origin.port & PIDS+=($!)
for _ in $(seq 1 100); do [ -s /tmp/ferry-idle-origin.port ] && break; sleep 0.1; done
"$JAVA" -Xmx256m -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=30 -jar "$JAR" -q -p 0 -c "$MODEL" --max-connections $((COUNT + 100)) \
  --idle-timeout 600 --upstream "http://127.0.0.1:$(head -1 /tmp/ferry-idle-origin.port)" \
  > /tmp/ferry-idle.out 2>&1 & PROXY=$!; PIDS+=($PROXY)
for _ in $(seq 1 100); do grep -q Listening /tmp/ferry-idle.out && break; sleep 0.1; done
PORT=$(grep Listening /tmp/ferry-idle.out | sed 's/.*://')
"$JAVA" -cp "$JAR" dev.ferry.samples.bench.IdleConnections "$PORT" "$COUNT" "$PROXY"
