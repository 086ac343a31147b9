#!/usr/bin/env bash
# Requests in pieces: paired runs of two builds of the CLI (A, B) under clients whose requests
# arrive in two pieces (SplitHeadClients.java beside this script: a GET with a 2,000-byte cookie,
# its head written in two parts half a millisecond apart; with POST=1 a POST of a 3,000-byte body,
# its head and first 1,000 bytes, then the rest), as a request larger than a network segment
# arrives on a real network; loopback delivers even a large one whole, so ab.sh never shows it. An nginx
# static origin on loopback; per round, A then B, each warmed up and then measured. Prints the
# answers per second and the proxy's CPU per answer (/proc ticks) for every run.
# Loopback only; every run is bounded in time; everything started is stopped on exit.
#   cp samples/target/ferry.jar /tmp/before.jar   # then change, rebuild, and:
#   ./mvnw -q -DskipTests package && A=/tmp/before.jar samples/bench/split-heads.sh
#   POST=1 A=/tmp/before.jar samples/bench/split-heads.sh     # small bodies in two pieces
# Settings: A and B (jars; both default to samples/target/ferry.jar), A_FLAGS and B_FLAGS (extra
# CLI flags), CONNS (client connections, 32), RUN_SECONDS per measured run (10), WARMUP seconds (15),
# ROUNDS (2), JAVA (java on PATH), POST (1: POSTs whose body comes in two pieces). Needs nginx
# and curl.
set -euo pipefail
cd "$(dirname "$0")/../.."
source samples/bench/ports.sh
source samples/bench/origin.sh
A=${A:-samples/target/ferry.jar}
B=${B:-samples/target/ferry.jar}
CONNS=${CONNS:-32}
RUN_SECONDS=${RUN_SECONDS:-10}
WARMUP=${WARMUP:-15}
ROUNDS=${ROUNDS:-2}
JAVA=${JAVA:-java}
KIND=get
[ "${POST:-0}" = 1 ] && KIND=post
PATH=$PATH:/usr/sbin:/sbin
for tool in nginx curl; do
  command -v "$tool" >/dev/null || { echo "split-heads.sh: skipped: $tool is missing (apt-get install -y nginx curl)"; exit 0; }
done
make_workdir split-heads
start_static_origin "$WORK/origin" 1024

run() { # $1 = label, $2 = jar, $3 = flags
  local port pid t0 t1 out answered
  port=$(free_port)
  # shellcheck disable=SC2086
  "$JAVA" -Xmx1g -jar "$2" -q -p "$port" --upstream "http://127.0.0.1:$ORIGIN_PORT" $3 > "$WORK/ferry-$1.out" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/bytes/1024" && break; sleep 0.1; done
  "$JAVA" samples/bench/SplitHeadClients.java "$port" "$CONNS" "$WARMUP" /bytes/1024 "$KIND" > /dev/null
  t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  out=$("$JAVA" samples/bench/SplitHeadClients.java "$port" "$CONNS" "$RUN_SECONDS" /bytes/1024 "$KIND")
  t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  answered=$(echo "$out" | sed 's/answered=\([0-9]*\).*/\1/')
  echo "  $1: $out, $((answered / RUN_SECONDS)) answers/s, $(( (t1 - t0) * 1000000 / $(getconf CLK_TCK) / answered )) µs CPU/answer"
}

echo "split-heads.sh: $("$JAVA" -version 2>&1 | head -1), $KIND, $CONNS connections, ${RUN_SECONDS}s runs after ${WARMUP}s warm-up, $ROUNDS rounds"
echo "  A = $A ${A_FLAGS:-}"
echo "  B = $B ${B_FLAGS:-}"
for round in $(seq 1 "$ROUNDS"); do
  run "round $round A" "$A" "${A_FLAGS:-}"
  run "round $round B" "$B" "${B_FLAGS:-}"
done
