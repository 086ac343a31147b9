#!/usr/bin/env bash
# How fast a fresh Ferry reaches its steady state: a new JVM, then STEPS wrk runs back to back, each
# on new connections, printing per run its req/s and the CPU seconds the JIT compiler threads
# (C1 and C2) and the whole process spent in it. Shows how long a benchmark must warm up before
# it measures Ferry rather than its JIT, and what a change does to the compilers' work. Past the
# warm-up, its CPU per request and its event loops' sleeps per request (voluntary context
# switches: a loop blocks in epoll_wait when it finds nothing ready) tell the machine's two
# steady states apart: one JVM moves between them from run to run (samples/bench/README.md,
# "Noise: two steady states").
# An nginx static origin on loopback; every run is bounded in time; everything is stopped on exit.
#   ./mvnw -q -DskipTests package && samples/bench/warm-up.sh
#   FIRST=30s STEPS=4 samples/bench/warm-up.sh   # one long first run, then new connections
#   JVM_FLAGS="-XX:FreqInlineSize=150" samples/bench/warm-up.sh
# Settings: SIZE of the response body (1024), CACHE in MiB (unset: no cache, so the miss path),
# STEPS (12), STEP (8s per run, in seconds), FIRST (the first run's length: STEP), CONNS (64), JAVA (java on
# PATH), JVM_FLAGS (extra JVM options). Needs nginx, wrk and curl.
set -euo pipefail
cd "$(dirname "$0")/../.."
source samples/bench/ports.sh
source samples/bench/origin.sh
JAR=samples/target/ferry.jar
SIZE=${SIZE:-1024}
STEPS=${STEPS:-12}
STEP=${STEP:-8s}
FIRST=${FIRST:-$STEP}
CONNS=${CONNS:-64}
JAVA=${JAVA:-java}
for value in "$STEP" "$FIRST"; do
  [[ "$value" =~ ^[0-9]+s$ ]] || { echo "warm-up.sh: STEP and FIRST are seconds, as 8s, not $value" >&2; exit 2; }
done
[ -f "$JAR" ] || { echo "build first: ./mvnw -q -DskipTests package"; exit 1; }
require_load_tools warm-up.sh
make_workdir warm-up
start_static_origin "$WORK" "$SIZE"

PORT=$(free_port)
CACHE_FLAGS=()
[ -n "${CACHE:-}" ] && CACHE_FLAGS=(-m "$CACHE")
read -r -a EXTRA <<< "${JVM_FLAGS:-}"
"$JAVA" -Xmx1g "${EXTRA[@]}" -jar "$JAR" -q -p "$PORT" --upstream "http://127.0.0.1:$ORIGIN_PORT" \
  "${CACHE_FLAGS[@]}" > "$WORK/ferry.out" 2>&1 &
FERRY=$!
PIDS+=("$FERRY")
for _ in $(seq 1 300); do grep -q Listening "$WORK/ferry.out" 2>/dev/null && break; sleep 0.1; done
URL="http://127.0.0.1:$PORT/bytes/$SIZE"
[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$URL")" = 200 ] \
  || { echo "no 200 from $URL" >&2; cat "$WORK/ferry.out" >&2; exit 1; }

TICKS=$(getconf CLK_TCK)
# Sums, over Ferry's threads whose name matches the glob $1, what the command $2 prints for each
# thread (given its /proc task directory).
per_thread_sum() {
  local task
  for task in /proc/"$FERRY"/task/*; do
    # shellcheck disable=SC2053 # $1 is a glob on purpose
    if [[ "$(cat "$task/comm" 2>/dev/null)" == $1 ]]; then "$2" "$task"; fi
  done | awk '{ s += $1 } END { print s + 0 }'
}
task_ticks() { awk '{print $14 + $15}' "$1/stat"; }
task_sleeps() { awk '/^voluntary_ctxt_switches/ {print $2}' "$1/status"; }
# CPU ticks (user + system) of the JIT's compiler threads, then of the whole process.
jit_ticks() { per_thread_sum 'C[12] Compiler*' task_ticks; }
process_ticks() { awk '{print $14 + $15}' "/proc/$FERRY/stat"; }
# Voluntary context switches of the event loops' threads: how often they blocked in epoll_wait.
loop_sleeps() { per_thread_sum 'ferry-loop*' task_sleeps; }

echo "warm-up.sh: $("$JAVA" -version 2>&1 | head -1), body $SIZE B, ${CACHE:+cache $CACHE MiB, }wrk -t2 -c$CONNS, $STEPS runs (first $FIRST, then $STEP each)${JVM_FLAGS:+, $JVM_FLAGS}" >&2
printf '%4s %8s %10s %10s %9s %10s %16s\n' run seconds req/s jit_cpu_s cpu_s us/request loop_sleeps/req
jit0=$(jit_ticks)
cpu0=$(process_ticks)
sleeps0=$(loop_sleeps)
elapsed=0
for run in $(seq 1 "$STEPS"); do
  length=$STEP
  [ "$run" = 1 ] && length=$FIRST
  rps=$(timeout 120 wrk -t2 -c"$CONNS" -d"$length" "$URL" | awk '/Requests\/sec/ {printf "%.0f", $2}')
  jit1=$(jit_ticks)
  cpu1=$(process_ticks)
  sleeps1=$(loop_sleeps)
  elapsed=$((elapsed + ${length%s}))
  requests=$(awk -v r="${rps:-0}" -v s="${length%s}" 'BEGIN {print r * s}')
  printf '%4d %8d %10s %10.2f %9.2f %10s %16s\n' "$run" "$elapsed" "${rps:-0}" \
    "$(awk -v a="$jit1" -v b="$jit0" -v t="$TICKS" 'BEGIN {print (a - b) / t}')" \
    "$(awk -v a="$cpu1" -v b="$cpu0" -v t="$TICKS" 'BEGIN {print (a - b) / t}')" \
    "$(awk -v a="$cpu1" -v b="$cpu0" -v t="$TICKS" -v n="$requests" 'BEGIN {if (n > 0) printf "%.0f", (a - b) / t * 1e6 / n; else print "-"}')" \
    "$(awk -v a="$sleeps1" -v b="$sleeps0" -v n="$requests" 'BEGIN {if (n > 0) printf "%.3f", (a - b) / n; else print "-"}')"
  jit0=$jit1
  cpu0=$cpu1
  sleeps0=$sleeps1
done
