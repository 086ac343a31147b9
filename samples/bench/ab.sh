#!/usr/bin/env bash
# Paired A/B of two builds of the CLI (or of one build with two flag sets) on Ferry's miss path:
# on a noisy machine only runs of A and B taken in turn, several times, tell a few per cent from
# noise. An nginx static origin on loopback, then per round: A warmed up and measured, B warmed
# up and measured. Prints req/s, p99 latency, requests wrk gave up on (2 s timeout), answers
# other than 2xx/3xx (counted in req/s too: a full pool's 503s), CPU per request (/proc ticks),
# heap allocation per request (the CLI's jvm_threads_allocated_bytes_total) and the process's
# peak resident memory over its warm-up and run (VmHWM) for every run, then the medians.
# Loopback only; every run is bounded in time; everything started is stopped on exit.
#   cp samples/target/ferry.jar /tmp/before.jar   # then change, rebuild, and:
#   ./mvnw -q -DskipTests package && A=/tmp/before.jar samples/bench/ab.sh
#   A_FLAGS="-t 200" B_FLAGS="-t 256" samples/bench/ab.sh   # one jar, two flag sets
#   B_JVM_FLAGS="-Xms64m" samples/bench/ab.sh                # one jar, two sets of JVM options
#   CONNS=512 A=/tmp/before.jar samples/bench/ab.sh          # many more clients than threads
#   CONNS=2000 A_FLAGS="--queue 1000" samples/bench/ab.sh    # more busy clients than pool and queue
#   CLOSE=1 A=/tmp/before.jar samples/bench/ab.sh            # a new connection per request
#   TLS=1 A=/tmp/before.jar samples/bench/ab.sh              # clients speak TLS to Ferry
#   UPLOAD=102400 A=/tmp/before.jar samples/bench/ab.sh      # POST a 100 KiB body each time
#   DELAY=50 CONNS=500 B_FLAGS="-c pool -t 1000" samples/bench/ab.sh  # a backend taking 50 ms
#   FORWARD=1 A_FLAGS="--no-event-loop" samples/bench/ab.sh  # Ferry as a forward proxy
#   HTTP10=1 A=/tmp/before.jar samples/bench/ab.sh           # HTTP/1.0 clients (as ab sends)
#   GATEWAY=1 A=/tmp/before.jar samples/bench/ab.sh          # routes alone, no catch-all upstream
#   GATEWAY=strip A=/tmp/before.jar samples/bench/ab.sh      # one route that strips its prefix
#   EXPECT=401 A_FLAGS="--auth a:b" B_FLAGS="--auth a:b" samples/bench/ab.sh  # every request refused
#   UNIQUE=1 A_FLAGS="-m 64" B_FLAGS="-m 64" samples/bench/ab.sh  # every request a miss the cache stores
# Settings: A and B (jars; both default to samples/target/ferry.jar), A_FLAGS and B_FLAGS (extra
# CLI flags, e.g. "-m 64" for cache hits), A_JVM_FLAGS and B_JVM_FLAGS (extra JVM options), SIZE of
# the body (1024), CONNS (wrk's connections, 64), CLOSE (1: "Connection: close" on every request),
# TLS (1: Ferry terminates TLS with a certificate made for the run; needs openssl), UPLOAD (bytes
# of a body POSTed with every request, which the origin reads and answers like a GET; 0: GETs),
# DELAY (ms: the origin is samples/bench/SlowOrigin.java answering after DELAY, on Java 25 where
# installed, instead of nginx answering at once; 0), FORWARD (1: Ferry is a forward proxy, with
# --allow-private-destinations, and wrk sends it absolute-form targets; not with TLS or UPLOAD),
# HTTP10 (1: wrk sends HTTP/1.0 GETs with "Connection: keep-alive", as ab -k does, or without it
# with CLOSE=1; not with UPLOAD), GATEWAY (1: Ferry's one route to the origin is a --route for
# every path, with no --upstream; strip: a route for /s/ that strips that prefix, from a --config
# file, wrk asking for /s/bytes/SIZE; not with FORWARD), ROUNDS (3), DURATION (8s), WARMUP per run
# (20s: C2 compiles Ferry's hot paths for about 20 s of a 1 KiB miss load, and until about 30 s
# with a new connection per request; a shorter warm-up measures the compiler as much as the change;
# samples/bench/warm-up.sh shows the curve), REWARM (8s: a second warm-up run on new connections,
# see warm_up in origin.sh), JAVA (java on PATH), HEADER (one more request field wrk sends, e.g.
# credentials for --auth: HEADER="Authorization: Basic YWxpY2U6czNjcmV0" B_FLAGS="--auth
# alice:s3cret"; not with HTTP10), EXPECT (the status the readiness check must get, 200; e.g. 401
# to measure a flood of requests a filter refuses: EXPECT=401 A_FLAGS="--auth alice:s3cret"
# B_FLAGS="--auth alice:s3cret", each answered 401 and counted among the answers other than
# 2xx/3xx), UNIQUE (1: every GET's target has a query of its own, so that a caching Ferry, -m,
# misses and stores each; not with UPLOAD, HTTP10 or FORWARD). Needs nginx, wrk and curl.
set -euo pipefail
cd "$(dirname "$0")/../.."
source samples/bench/ports.sh
source samples/bench/origin.sh
A=${A:-samples/target/ferry.jar}
B=${B:-samples/target/ferry.jar}
SIZE=${SIZE:-1024}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-8s}
WARMUP=${WARMUP:-20s}
JAVA=${JAVA:-java}
CONNS=${CONNS:-64}
WRK_HEADERS=()
[ "${CLOSE:-0}" = 1 ] && WRK_HEADERS=(-H "Connection: close")
[ -n "${HEADER:-}" ] && WRK_HEADERS+=(-H "$HEADER")
UPLOAD=${UPLOAD:-0}
DELAY=${DELAY:-0}
FORWARD=${FORWARD:-0}
HTTP10=${HTTP10:-0}
EXPECT=${EXPECT:-200}
if [ "$FORWARD" = 1 ] && { [ "$UPLOAD" -gt 0 ] || [ "${TLS:-0}" = 1 ]; }; then
  echo "ab.sh: FORWARD=1 runs GETs over plain HTTP: leave out UPLOAD and TLS"; exit 2
fi
GATEWAY=${GATEWAY:-0}
case "$GATEWAY" in
  0 | 1 | strip) ;;
  *) echo "ab.sh: GATEWAY must be 0, 1 or strip, not $GATEWAY"; exit 2 ;;
esac
if [ "$FORWARD" = 1 ] && [ "$GATEWAY" != 0 ]; then
  echo "ab.sh: GATEWAY=$GATEWAY is a reverse proxy of routes: leave out FORWARD"; exit 2
fi
if [ "$HTTP10" = 1 ] && [ "$UPLOAD" -gt 0 ]; then
  echo "ab.sh: HTTP10=1 sends GETs: leave out UPLOAD"; exit 2
fi
if [ "${UNIQUE:-0}" = 1 ] && { [ "$UPLOAD" -gt 0 ] || [ "$HTTP10" = 1 ] || [ "$FORWARD" = 1 ]; }; then
  echo "ab.sh: UNIQUE=1 makes its own GETs' targets: leave out UPLOAD, HTTP10 and FORWARD"; exit 2
fi
if [ "$HTTP10" = 1 ] && [ -n "${HEADER:-}" ]; then
  echo "ab.sh: HTTP10=1 writes its requests whole: leave out HEADER"; exit 2
fi
for jar in "$A" "$B"; do
  [ -f "$jar" ] || { echo "ab.sh: no $jar (build first: ./mvnw -q -DskipTests package)"; exit 1; }
done
require_load_tools ab.sh

make_workdir ab

if [ "$DELAY" -gt 0 ]; then
  start_slow_origin "$WORK" "$SIZE" "$DELAY"
else
  start_static_origin "$WORK" "$SIZE"
fi
if [ "$UPLOAD" -gt 0 ]; then
  printf 'wrk.method = "POST"\nwrk.body = string.rep("x", %d)\n' "$UPLOAD" > "$WORK/upload.lua"
  WRK_HEADERS+=(-s "$WORK/upload.lua")
fi

tls_listener "$WORK" ab.sh
PREFIX=""
if [ "$GATEWAY" = strip ]; then
  PREFIX=/s
  printf 'pools:\n  - name: origin\n    endpoints: [http://127.0.0.1:%s]\nroutes:\n  - pathPrefix: /s/\n    stripPrefix: true\n    pool: origin\n' \
    "$ORIGIN_PORT" > "$WORK/gateway.yaml"
fi
TARGET=$PREFIX/bytes/$SIZE
# wrk connects to the proxy and, as a forward proxy's client, sends the origin's absolute URL.
[ "$FORWARD" = 1 ] && TARGET=http://127.0.0.1:$ORIGIN_PORT/bytes/$SIZE
if [ "$HTTP10" = 1 ]; then
  # wrk builds HTTP/1.1 requests itself; this one is written whole, once.
  KEEP_ALIVE='Connection: keep-alive\r\n'
  [ "${CLOSE:-0}" = 1 ] && KEEP_ALIVE=''
  printf 'local r = "GET %s HTTP/1.0\\r\\n%s\\r\\n"\nrequest = function() return r end\n' \
    "$TARGET" "$KEEP_ALIVE" > "$WORK/http10.lua"
  WRK_HEADERS=(-s "$WORK/http10.lua")
elif [ "$FORWARD" = 1 ]; then
  printf 'wrk.path = "%s"\n' "$TARGET" > "$WORK/forward.lua"
  WRK_HEADERS+=(-s "$WORK/forward.lua")
elif [ "${UNIQUE:-0}" = 1 ]; then
  # A query of its own on every request, unique per run and wrk thread: with -m, each is a miss
  # the cache stores (nginx's static origin answers the file whatever the query).
  cat > "$WORK/unique.lua" <<'LUA'
local threads = 0
function setup(thread) threads = threads + 1; thread:set("id", threads) end
function init(args) prefix = os.time() .. "-" .. id; n = 0 end
function request() n = n + 1; return wrk.format(nil, wrk.path .. "?u=" .. prefix .. "-" .. n) end
LUA
  WRK_HEADERS+=(-s "$WORK/unique.lua")
fi

allocated() { # $1 = admin port
  curl -s --max-time 5 "http://127.0.0.1:$1/metrics" \
    | awk '$1=="jvm_threads_allocated_bytes_total" {printf "%.0f", $2}'
}

# Runs in a command substitution, a subshell whose PIDS the exit trap never sees: it stops its
# own Ferry on every way out.
run() { # $1 = label, $2 = jar, $3 = extra flags, $4 = extra JVM options; prints "label rps cpu_us alloc_b p99_ms timeouts refused rss_mib"
  local port admin pid url t0 t1 a0 a1 n rps p99 timeouts refused rss flags jvm_flags mode check
  port=$(free_port)
  admin=$(free_port)
  read -r -a flags <<< "$3 $TLS_FLAGS"
  read -r -a jvm_flags <<< "$4"
  mode=(--upstream "http://127.0.0.1:$ORIGIN_PORT")
  [ "$GATEWAY" = 1 ] && mode=(--route "/=http://127.0.0.1:$ORIGIN_PORT")
  [ "$GATEWAY" = strip ] && mode=(--config "$WORK/gateway.yaml")
  url="$SCHEME://127.0.0.1:$port$PREFIX/bytes/$SIZE"
  check=("$url")
  if [ "$FORWARD" = 1 ]; then
    mode=(--allow-private-destinations)
    check=(-x "http://127.0.0.1:$port" "http://127.0.0.1:$ORIGIN_PORT/bytes/$SIZE")
  fi
  [ -n "${HEADER:-}" ] && check+=(-H "$HEADER")
  "$JAVA" -Xmx1g "${jvm_flags[@]}" -jar "$2" -q -p "$port" --admin-port "$admin" \
    "${mode[@]}" "${flags[@]}" > "$WORK/ferry.out" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  for _ in $(seq 1 300); do grep -q Listening "$WORK/ferry.out" 2>/dev/null && break; sleep 0.1; done
  [ "$(curl -s -k -o /dev/null -w '%{http_code}' --max-time 5 "${check[@]}")" = "$EXPECT" ] \
    || { echo "no $EXPECT from ${check[*]}" >&2; cat "$WORK/ferry.out" >&2; kill "$pid"; exit 1; }
  warm_up "$url" -t2 -c"$CONNS" "${WRK_HEADERS[@]}"
  a0=$(allocated "$admin")
  t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  timeout 120 wrk -t2 -c"$CONNS" -d"$DURATION" --latency "${WRK_HEADERS[@]}" "$url" > "$WORK/wrk.out"
  t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  a1=$(allocated "$admin")
  rss=$(awk '/^VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status")
  kill "$pid"
  timeout 30 tail --pid="$pid" -f /dev/null || true
  n=$(awk '/requests in/ {print $1}' "$WORK/wrk.out")
  rps=$(awk '/Requests\/sec/ {printf "%.0f", $2}' "$WORK/wrk.out")
  p99=$(awk '$1 == "99%" {v = $2 + 0; if ($2 ~ /us$/) v /= 1000; else if ($2 ~ /[^m]s$/) v *= 1000;
    printf "%.1f", v}' "$WORK/wrk.out")
  timeouts=$(awk '/Socket errors/ {print $NF}' "$WORK/wrk.out")
  # Answers other than 2xx and 3xx (a full pool's 503s) count in req/s too: shown apart.
  refused=$(awk '/Non-2xx/ {print $NF}' "$WORK/wrk.out")
  echo "$1 $rps $(( (t1 - t0) * 1000000 / $(getconf CLK_TCK) / n )) $(( (${a1:-0} - ${a0:-0}) / n ))" \
    "${p99:-0} ${timeouts:-0} ${refused:-0} ${rss:-0}"
}

echo "ab.sh: $("$JAVA" -version 2>&1 | head -1), $SCHEME$([ "$FORWARD" = 1 ] && echo ", forward proxy")$([ "$HTTP10" = 1 ] && echo ", HTTP/1.0 clients")$([ "$GATEWAY" = 1 ] && echo ", routes only")$([ "$GATEWAY" = strip ] && echo ", a route stripping its prefix"), body $SIZE B, upload $UPLOAD B, wrk -t2 -c$CONNS -d$DURATION ${WRK_HEADERS[*]}, $ROUNDS rounds" >&2
echo "  A = ${A_JVM_FLAGS:-} $A ${A_FLAGS:-}" >&2
echo "  B = ${B_JVM_FLAGS:-} $B ${B_FLAGS:-}" >&2
: > "$WORK/results"
for round in $(seq 1 "$ROUNDS"); do
  # A then B in odd rounds, B then A in even ones: whichever runs second in a round can run
  # slower (an A/A run of 100 KiB uploads put the second 9 % behind), so the order alternates.
  order="A B"
  [ $((round % 2)) = 0 ] && order="B A"
  for side in $order; do
    if [ "$side" = A ]; then line=$(run A "$A" "${A_FLAGS:-}" "${A_JVM_FLAGS:-}"); else line=$(run B "$B" "${B_FLAGS:-}" "${B_JVM_FLAGS:-}"); fi
    echo "$line" >> "$WORK/results"
    read -r _ rps cpu alloc p99 timeouts refused rss <<< "$line"
    echo "  round $round $side: $rps req/s, p99 $p99 ms, $timeouts timed out, $refused not 2xx/3xx," \
      "$cpu µs CPU/request, $alloc B allocated/request, peak RSS $rss MiB" >&2
  done
done
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
for side in A B; do
  echo "$side: median $(awk -v s="$side" '$1 == s {print $2}' "$WORK/results" | median) req/s," \
    "p99 $(awk -v s="$side" '$1 == s {print $5}' "$WORK/results" | median) ms," \
    "$(awk -v s="$side" '$1 == s {print $6}' "$WORK/results" | median) timed out," \
    "$(awk -v s="$side" '$1 == s {print $7}' "$WORK/results" | median) not 2xx/3xx," \
    "$(awk -v s="$side" '$1 == s {print $3}' "$WORK/results" | median) µs CPU/request," \
    "$(awk -v s="$side" '$1 == s {print $4}' "$WORK/results" | median) B allocated/request," \
    "peak RSS $(awk -v s="$side" '$1 == s {print $8}' "$WORK/results" | median) MiB"
done
