#!/usr/bin/env bash
# Resident memory per idle keep-alive connection: 10,000 connections held open on a Ferry using
# virtual threads (JDK 21+), or, with MODEL=auto JAVA=java on JDK 17, the bounded pool whose idle
# connections wait on a selector. Loopback only; bounded by the count and socket timeouts.
# The heap-free ratios let G1 hand freed heap back after the full GC, so RSS shows live memory.
# With TLS=1 the proxy terminates TLS (a certificate made for the run; needs openssl) and the
# connections are TLS sessions.
#   ./mvnw -q -DskipTests package && samples/bench/idle-connections.sh [COUNT]
#   TLS=1 samples/bench/idle-connections.sh 2000
#   JAR=/tmp/before.jar MODEL=auto JAVA=java samples/bench/idle-connections.sh   # another build
set -euo pipefail
cd "$(dirname "$0")/../.."
JAR=${JAR:-samples/target/ferry.jar} # the proxy; the clients and origin come from this build's jar
CLIENTS=samples/target/ferry.jar
COUNT=${1:-10000}
JAVA=${JAVA:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
MODEL=${MODEL:-virtual}
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" -gt $((COUNT + 200)) ] || { echo "need ulimit -n above $COUNT"; exit 1; }
source samples/bench/ports.sh
source samples/bench/origin.sh
make_workdir idle-connections
tls_listener "$WORK" idle-connections.sh

"$JAVA" -cp "$CLIENTS" dev.ferry.samples.bench.BenchOrigin > /tmp/ferry-idle-origin.port & PIDS+=($!)
for _ in $(seq 1 100); do [ -s /tmp/ferry-idle-origin.port ] && break; sleep 0.1; done
"$JAVA" -Xmx256m -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=30 -jar "$JAR" -q -p 0 -c "$MODEL" --max-connections $((COUNT + 100)) \
  --idle-timeout 600 $TLS_FLAGS --upstream "http://127.0.0.1:$(head -1 /tmp/ferry-idle-origin.port)" \
  > /tmp/ferry-idle.out 2>&1 & PROXY=$!; PIDS+=($PROXY)
for _ in $(seq 1 100); do grep -q Listening /tmp/ferry-idle.out && break; sleep 0.1; done
PORT=$(grep Listening /tmp/ferry-idle.out | sed 's/.*://')
"$JAVA" -cp "$CLIENTS" dev.ferry.samples.bench.IdleConnections "$PORT" "$COUNT" "$PROXY" \
  ${TLS_FLAGS:+"$WORK/cert.pem"}
