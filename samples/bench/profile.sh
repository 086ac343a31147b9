#!/usr/bin/env bash
# Profiles Ferry's reverse-proxy miss path (or its cache hits) under load with Java Flight
# Recorder, and prints the top CPU methods and allocation sites: the "profile first" step of
# performance work. An nginx static origin on loopback, Ferry in front of it with
# -XX:StartFlightRecording (settings=profile), wrk for a warm-up and then the recorded run.
# Loopback only; every run is bounded in time; everything started is stopped on exit.
#   ./mvnw -q -DskipTests package && samples/bench/profile.sh
#   SIZE=102400 CACHE=64 JAVA=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java samples/bench/profile.sh
#   TLS=1 SIZE=102400 samples/bench/profile.sh   # clients speak TLS to Ferry (needs openssl)
#   CLOSE=1 samples/bench/profile.sh              # a new connection per request
#   ACCESS_LOG=1 samples/bench/profile.sh         # the CLI's default access log on (to a file)
#   PROFILER=async samples/bench/profile.sh       # CPU in the kernel too (async-profiler)
#   FORWARD=1 samples/bench/profile.sh            # a forward proxy: absolute-form requests
#   UPLOAD=1024 samples/bench/profile.sh          # POST a 1 KiB body with every request
#   FLAGS="--event-loop" samples/bench/profile.sh # extra CLI flags (here: the event loops)
# Settings: SIZE of the response body (1024), CACHE in MiB (unset: no cache, so the miss path),
# TLS (1: Ferry terminates TLS with a certificate made for the run), CLOSE (1: "Connection: close"
# on every request), FORWARD (1: Ferry as a forward proxy, no --upstream, wrk sending absolute-form
# targets for the origin), UPLOAD (bytes of a body POSTed with every request, which the origin
# reads and answers like a GET; 0: GETs; not with FORWARD), ACCESS_LOG (1: without -q, so the access log is written, to the run's
# ferry.out), FLAGS (extra CLI flags for Ferry, split on spaces), HEADER (one more request field
# wrk and the readiness check send, e.g. HEADER="Authorization: Basic YWxpY2U6czNjcmV0" with
# FLAGS="--auth alice:s3cret"),
# DURATION of the recorded run (10s), WARMUP (10s) and REWARM (8s: a second warm-up run on new
# connections, see warm_up in origin.sh), JAVA to run Ferry (java on PATH), JFR_TOOL (the
# jfr of a JDK 21+ for `jfr view`: Temurin 25 if present, else the one beside JAVA), KEEP=1 keeps
# the recording (its path is printed), PROFILER (jfr; async: async-profiler 4.1, fetched from
# Maven Central through the wrapper, samples CPU time in the kernel as well as in Java, on Linux
# x64, and prints where the connection threads' time goes: each system call, split into the
# call and the thread switches of calls that block, and the Java code, with its hottest
# frames; JFR sees only the Java part). Needs nginx and wrk (apt-get install -y nginx wrk).
set -euo pipefail
cd "$(dirname "$0")/../.."
source samples/bench/ports.sh
source samples/bench/origin.sh
JAR=samples/target/ferry.jar
SIZE=${SIZE:-1024}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-10s}
JAVA=${JAVA:-java}
[ -f "$JAR" ] || { echo "build first: ./mvnw -q -DskipTests package"; exit 1; }
require_load_tools profile.sh
JFR_TOOL=${JFR_TOOL:-}
if [ -z "$JFR_TOOL" ]; then
  JFR_TOOL=/usr/lib/jvm/temurin-25-jdk-amd64/bin/jfr
  [ -x "$JFR_TOOL" ] || JFR_TOOL=$(dirname "$(readlink -f "$(command -v "$JAVA")")")/jfr
fi

make_workdir profile

# Prints where the sampled CPU time of async-profiler's collapsed stacks ($1) went: per system
# call of Ferry's threads (a call whose stack reached the scheduler counted apart, as a thread
# switch), their Java code, the JIT and everything else; then the Java code's hottest frames,
# each stack counted at its deepest Ferry frame.
summarize_cpu() {
  awk '
    { n = $NF; stack = substr($0, 1, length($0) - length($NF) - 1); total += n
      if (stack ~ /C2Compiler|C1Compiler/) { part["JIT compilers"] += n; next }
      if (stack !~ /dev\/ferry\//) { part["other threads (GC, pollers, the JVM)"] += n; next }
      frames = split(stack, frame, ";"); call = ""; deepest = ""
      for (i = 1; i <= frames; i++) {
        if (call == "" && frame[i] ~ /(read0|write0|writev0|transferTo0|Net\.available|Net\.poll|EPollPoller|EPoll\.)/) call = frame[i]
        if (call == "" && frame[i] ~ /^dev\/ferry\//) deepest = frame[i]
      }
      if (call != "") {
        sub(/.*\//, "", call)
        part["system call " call (stack ~ /schedule/ ? ", switching threads" : "")] += n
      } else {
        part["Java: Ferry and the JDK"] += n
        hot[deepest] += n
      }
    }
    END {
      for (p in part) printf "%5.1f%%  %s\n", 100 * part[p] / total, p | "sort -rn"
      close("sort -rn")
      print "\nJava time by deepest Ferry frame (% of all samples):"
      for (h in hot) printf "%5.1f%%  %s\n", 100 * hot[h] / total, h | "sort -rn | head -25"
    }' "$1"
}

wait_for() { # $1 = file, $2 = text; up to 30 s
  for _ in $(seq 1 300); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "timed out waiting for '$2' in $1" >&2; cat "$1" >&2; return 1
}

start_static_origin "$WORK" "$SIZE"
tls_listener "$WORK" profile.sh
read -r -a TLS_ARGS <<< "$TLS_FLAGS"

PORT=$(free_port)
CACHE_FLAGS=()
[ -n "${CACHE:-}" ] && CACHE_FLAGS=(-m "$CACHE")
PROFILER=${PROFILER:-jfr}
case "$PROFILER" in
  jfr) PROFILE_FLAGS=("-XX:StartFlightRecording=filename=$WORK/ferry.jfr,settings=profile") ;;
  async)
    AP_VERSION=4.1
    ./mvnw -q dependency:copy "-Dartifact=tools.profiler:async-profiler:$AP_VERSION:jar:linux-x64" \
      "-DoutputDirectory=$WORK/ap" || { echo "profile.sh: could not fetch async-profiler $AP_VERSION" >&2; exit 1; }
    (cd "$WORK/ap" && jar xf "async-profiler-$AP_VERSION-linux-x64.jar" linux-x64/libasyncProfiler.so)
    AGENT=$WORK/ap/linux-x64/libasyncProfiler.so
    JCMD=$(dirname "$(readlink -f "$(command -v "$JAVA")")")/jcmd
    # Loaded at start, started after the warm-up: the JIT's and the start's work stay out of it.
    PROFILE_FLAGS=(-XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints "-agentpath:$AGENT") ;;
  *) echo "profile.sh: PROFILER must be jfr or async, not $PROFILER" >&2; exit 2 ;;
esac
LOG_FLAGS=(-q)
read -r -a EXTRA_FLAGS <<< "${FLAGS:-}"
[ "${ACCESS_LOG:-0}" = 1 ] && LOG_FLAGS=()
MODE_FLAGS=(--upstream "http://127.0.0.1:$ORIGIN_PORT")
WRK_SCRIPT=()
CURL_PROXY=()
if [ "${FORWARD:-0}" = 1 ]; then
  MODE_FLAGS=(--allow-private-destinations)
  echo "wrk.path = \"http://127.0.0.1:$ORIGIN_PORT/bytes/$SIZE\"" > "$WORK/forward.lua"
  WRK_SCRIPT=(-s "$WORK/forward.lua")
elif [ "${UPLOAD:-0}" -gt 0 ]; then
  printf 'wrk.method = "POST"\nwrk.body = string.rep("x", %d)\n' "$UPLOAD" > "$WORK/upload.lua"
  WRK_SCRIPT=(-s "$WORK/upload.lua")
fi
"$JAVA" -Xmx1g "${PROFILE_FLAGS[@]}" -jar "$JAR" "${LOG_FLAGS[@]}" \
  -p "$PORT" "${MODE_FLAGS[@]}" "${CACHE_FLAGS[@]}" "${TLS_ARGS[@]}" "${EXTRA_FLAGS[@]}" > "$WORK/ferry.out" 2>&1 &
FERRY=$!
PIDS+=("$FERRY")
wait_for "$WORK/ferry.out" Listening
URL="$SCHEME://127.0.0.1:$PORT/bytes/$SIZE"
CHECK_URL=$URL
if [ "${FORWARD:-0}" = 1 ]; then
  CURL_PROXY=(-x "$SCHEME://127.0.0.1:$PORT" --proxy-insecure)
  CHECK_URL="http://127.0.0.1:$ORIGIN_PORT/bytes/$SIZE"
fi
CURL_HEADER=()
[ -n "${HEADER:-}" ] && CURL_HEADER=(-H "$HEADER")
[ "$(curl -sk "${CURL_PROXY[@]}" "${CURL_HEADER[@]}" -o /dev/null -w '%{http_code}' --max-time 5 "$CHECK_URL")" = 200 ] ||
  { echo "no 200 from $CHECK_URL${CURL_PROXY[*]:+ through }${CURL_PROXY[1]:-}" >&2; exit 1; }

echo "profile.sh: $("$JAVA" -version 2>&1 | head -1), $SCHEME, body $SIZE B, ${CACHE:+cache $CACHE MiB, }wrk -t2 -c64, warm-up $WARMUP + ${REWARM:-8s}, recorded $DURATION${FORWARD:+, forward proxy}${FLAGS:+, flags $FLAGS}" >&2
WRK_HEADERS=()
[ "${CLOSE:-0}" = 1 ] && WRK_HEADERS=(-H "Connection: close")
[ -n "${HEADER:-}" ] && WRK_HEADERS+=(-H "$HEADER")
warm_up "$URL" -t2 -c64 "${WRK_HEADERS[@]}" "${WRK_SCRIPT[@]}"
if [ "$PROFILER" = async ]; then
  # jcmd reads name=value pairs itself: the agent's options go quoted.
  "$JCMD" "$FERRY" JVMTI.agent_load "$AGENT" '"start,event=cpu,interval=1ms"' > /dev/null
  timeout 120 wrk -t2 -c64 -d"$DURATION" "${WRK_HEADERS[@]}" "${WRK_SCRIPT[@]}" "$URL" | grep -E "Requests/sec|requests in" >&2
  "$JCMD" "$FERRY" JVMTI.agent_load "$AGENT" "\"stop,collapsed,file=$WORK/cpu.collapsed\"" > /dev/null
  [ -s "$WORK/cpu.collapsed" ] || { echo "no profile written" >&2; exit 1; }
  summarize_cpu "$WORK/cpu.collapsed"
  [ "${KEEP:-0}" = 1 ] && echo "profile kept (collapsed stacks, for flame graphs): $WORK/cpu.collapsed"
  exit 0
fi
# The recording covers the warm-up too; the views below are dominated by the longer, hot part.
timeout 120 wrk -t2 -c64 -d"$DURATION" "${WRK_HEADERS[@]}" "${WRK_SCRIPT[@]}" "$URL" | grep -E "Requests/sec|requests in" >&2
kill "$FERRY"
timeout 30 tail --pid="$FERRY" -f /dev/null || true
[ -s "$WORK/ferry.jfr" ] || { echo "no recording written" >&2; exit 1; }

if ! "$JFR_TOOL" view --width 160 hot-methods "$WORK/ferry.jfr" 2>/dev/null | head -30; then
  echo "($JFR_TOOL has no 'view' command: it needs JDK 21+; set JFR_TOOL. Raw events follow.)"
  "$JFR_TOOL" summary "$WORK/ferry.jfr" | head -30
  exit 0
fi
"$JFR_TOOL" view --width 160 allocation-by-site "$WORK/ferry.jfr" | head -30
"$JFR_TOOL" view --width 160 allocation-by-class "$WORK/ferry.jfr" | head -20
[ "${KEEP:-0}" = 1 ] && echo "recording kept: $WORK/ferry.jfr"
true
