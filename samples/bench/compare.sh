#!/usr/bin/env bash
# Ferry against nginx, side by side in one run (issue 14): an nginx static origin serving 1 KiB
# and 100 KiB files; nginx as a reverse proxy and with proxy_cache; Ferry's miss path and cache
# hits on Java 17 (defaults: the event loops, and `-c auto` = bounded pool for the rest) and, when
# installed, Java 25 (`auto` = virtual threads), then both with --no-event-loop. For each row and size: a 3 s warm-up, then ROUNDS runs of
# `wrk -t2 -c$CONNS -d$DURATION --latency`; the table shows medians of req/s and p99, the proxy
# process's CPU per request (user+sys ticks from /proc/PID/stat; nginx: master and workers) and
# its peak RSS (VmHWM), and for Ferry the heap bytes allocated per request (the CLI's
# jvm_threads_allocated_bytes_total on its admin listener, read before and after each run).
# Forward rows: Ferry as a forward proxy against LittleProxy (the Netty forward proxy, fetched
# from Maven Central with the Maven wrapper, run by LittleProxyPeer.java beside this script; its
# row is skipped if it cannot be fetched), wrk sending absolute-form requests through each.
# A ceiling row: EventLoopCeiling.java beside this script, a Java NIO event loop that relays the
# bytes and does no HTTP work, the best an event-loop core in Java could do on this machine.
# Then the idle-connection probe (IdleProbe.java beside this script).
# Loopback only; every load and wait is bounded in time; every process started is stopped on exit.
# Progress goes to stderr, the two markdown tables to stdout. About 20 minutes with the defaults.
#   ./mvnw -q -DskipTests package && samples/bench/compare.sh
#   DURATION=3s ROUNDS=1 JIT_WARMUP=3s IDLE=2000 samples/bench/compare.sh   # quick check, ~4 minutes
#   CONNS=1000 SIZES=1024 IDLE=0 samples/bench/compare.sh   # a thousand clients, 1 KiB, ~10 minutes
# Settings: DURATION (10s), ROUNDS (2), WARMUP (3s before each run), JIT_WARMUP (15s once per
# row and size before the first round, so that round 1 does not measure the JIT compiling the
# JVMs' hot paths: on Java 17 C2 compiles Ferry's for about 20 s of a 1 KiB miss load, counting
# the recompiles the first closed connections cause, see warm_up in origin.sh), IDLE
# connections (10000; 0 skips the probe), CONNS (wrk's connections, 64; nginx keeps as many idle
# upstream connections per worker, so that neither proxy closes and reopens them under the load), HOLD seconds (10), LITTLEPROXY version (2.2.0), SIZES
# of the files ("1024 102400"; "102400" measures large bodies only, in about half the time),
# JAVA17 (java on PATH), JDK25 (/usr/lib/jvm/temurin-25-jdk-amd64; its rows are skipped if absent).
set -euo pipefail
cd "$(dirname "$0")/../.."
JAR=samples/target/ferry.jar
DURATION=${DURATION:-10s}
CONNS=${CONNS:-64}
ROUNDS=${ROUNDS:-2}
WARMUP=${WARMUP:-3s}
JIT_WARMUP=${JIT_WARMUP:-15s}
IDLE=${IDLE:-10000}
HOLD=${HOLD:-10}
JAVA17=${JAVA17:-java}
JDK25=${JDK25:-/usr/lib/jvm/temurin-25-jdk-amd64}
LITTLEPROXY=${LITTLEPROXY:-2.2.0}
JVM_OPTS=(-Xmx1g)
read -r -a SIZES <<< "${SIZES:-1024 102400}"
[ -f "$JAR" ] || { echo "build first: ./mvnw -q -DskipTests package"; exit 1; }

# --- tools ---------------------------------------------------------------------------------------
PATH=$PATH:/usr/sbin:/sbin
need() { # $1 = command, $2 = Debian package
  command -v "$1" >/dev/null && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing $2 ..." >&2
    timeout 300 apt-get install -y -qq "$2" >/dev/null 2>&1 ||
      { timeout 300 apt-get update -qq >/dev/null 2>&1 && timeout 300 apt-get install -y -qq "$2" >/dev/null 2>&1; } || true
  fi
  command -v "$1" >/dev/null && return 0
  echo "compare.sh: skipped: $1 is missing and could not be installed (apt-get install -y nginx wrk)"
  exit 0
}
need nginx nginx
need wrk wrk
need curl curl
command -v "$JAVA17" >/dev/null || { echo "compare.sh: skipped: no java on PATH"; exit 0; }
JCMD17=$(dirname "$(readlink -f "$(command -v "$JAVA17")")")/jcmd
HAVE25=false; [ -x "$JDK25/bin/java" ] && HAVE25=true

# Every open connection is a file descriptor in the client and in the server.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)
if [ "$NOFILE" != unlimited ] && [ "$IDLE" -gt $((NOFILE - 500)) ]; then
  echo "note: open-file limit $NOFILE; IDLE lowered from $IDLE to $((NOFILE - 500))" >&2
  IDLE=$((NOFILE - 500))
fi
[ "$NOFILE" = unlimited ] && NOFILE=1048576

# --- processes -----------------------------------------------------------------------------------
WORK=$(mktemp -d /tmp/ferry-compare.XXXXXX)
chmod 755 "$WORK"   # nginx workers run as nobody and must read the files and write the cache
STARTED=()          # every pid this script started, stopped in reverse order on exit
stop() { # $@ = pids: TERM, up to 5 s grace, then KILL
  local p
  for p in "$@"; do kill "$p" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    local alive=false
    for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=true; done
    $alive || return 0
    sleep 0.1
  done
  for p in "$@"; do kill -9 "$p" 2>/dev/null || true; done
}
stop_started() { # $@ = pids from STARTED: stop them and forget them, so exit never signals a reused pid
  stop "$@"
  local p q keep=()
  for p in "${STARTED[@]}"; do
    for q in "$@"; do [ "$p" = "$q" ] && continue 2; done
    keep+=("$p")
  done
  STARTED=("${keep[@]}")
}
cleanup() {
  local i pids=()
  for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do pids+=("${STARTED[i]}"); done
  [ ${#pids[@]} -eq 0 ] || stop "${pids[@]}"
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

source samples/bench/ports.sh

wait_listening() { # $1 = port; up to 15 s
  for _ in $(seq 1 150); do
    ss -Hltn "sport = :$1" 2>/dev/null | grep -q . && return 0
    sleep 0.1
  done
  echo "nothing listening on 127.0.0.1:$1 after 15 s" >&2; return 1
}

# nginx settings shared by every nginx here. worker_processes auto = 2 workers on this 2-core
# machine: the JVM may spread Ferry over both cores, so nginx gets the same. sendfile on, as in
# Debian's default nginx.conf, but not its tcp_nopush on: with it, nginx 1.22's proxy_cache hits
# of 100 KiB stall on delayed ACKs (about 2,000 req/s with ~40 ms latency here, against 36,000
# without); the origin is the same either way.
nginx_conf() { # $1 = dir, $2 = http{} body
  mkdir -p "$1/tmp" "$1/logs"
  cat > "$1/nginx.conf" <<EOF
worker_processes auto;
worker_rlimit_nofile $NOFILE;
daemon off;
pid nginx.pid;
error_log error.log warn;
events { worker_connections $((NOFILE - 100 > 65535 ? 65535 : NOFILE - 100)); }
http {
  access_log off;
  default_type application/octet-stream;
  sendfile on;
  keepalive_requests 1000000;
  keepalive_timeout 600s;
  client_body_temp_path tmp/body;
  proxy_temp_path tmp/proxy;
  fastcgi_temp_path tmp/fastcgi;
  uwsgi_temp_path tmp/uwsgi;
  scgi_temp_path tmp/scgi;
$2
}
EOF
}

# Starts nginx in $1 on port $2; sets NGINX_PIDS to master and children (workers, cache manager).
start_nginx() {
  nginx -p "$1/" -c nginx.conf -e "$1/error.log" > "$1/stdout" 2>&1 &
  local master=$!; STARTED+=("$master")
  wait_listening "$2" || { cat "$1/error.log" >&2; exit 1; }
  sleep 0.3   # the workers fork right after the bind
  NGINX_PIDS="$master $(ps -o pid= --ppid "$master" | tr '\n' ' ')"
  STARTED+=($NGINX_PIDS)   # workers too, in case the master dies first
}

# Starts Ferry with java $1 and JVM flags $2...; sets FERRY_PID, FERRY_PORT and FERRY_ADMIN (the
# admin listener's port, for the allocation counter). A reverse proxy of the origin unless
# FERRY_MODE=forward.
start_ferry() {
  local java=$1; shift
  local out; out=$(mktemp "$WORK/ferry.XXXX")
  local mode=(--upstream "http://127.0.0.1:$ORIGIN_PORT")
  [ "${FERRY_MODE:-reverse}" = forward ] && mode=(--allow-private-destinations)
  "$java" "${JVM_OPTS[@]}" "$@" -jar "$JAR" -q -p 0 -c auto "${mode[@]}" \
    --admin-port 0 "${FERRY_FLAGS[@]}" > "$out" 2>&1 &
  FERRY_PID=$!; STARTED+=("$FERRY_PID")
  for _ in $(seq 1 300); do grep -q Listening "$out" && break; sleep 0.1; done
  grep -q Listening "$out" || { echo "Ferry did not start:" >&2; cat "$out" >&2; exit 1; }
  FERRY_PORT=$(grep Listening "$out" | sed 's/.*://')
  FERRY_ADMIN=$(awk '$1 == "admin" { sub(/.*:/, "", $2); print $2 }' "$out")
}

# Fetches LittleProxy and its dependencies into $WORK/littleproxy/lib; false if that fails.
fetch_littleproxy() {
  mkdir -p "$WORK/littleproxy"
  cat > "$WORK/littleproxy/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
  <groupId>bench</groupId><artifactId>littleproxy-peer</artifactId><version>1</version>
  <dependencies><dependency><groupId>xyz.rogfam</groupId><artifactId>littleproxy</artifactId>
    <version>$LITTLEPROXY</version></dependency></dependencies></project>
POM
  timeout 300 ./mvnw -q -f "$WORK/littleproxy/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$WORK/littleproxy/lib" > "$WORK/littleproxy/fetch.log" 2>&1
}

# Starts LittleProxy on a free port with java $1; sets LP_PID and LP_PORT.
start_ceiling() { # $1 = java
  local out="$WORK/ceiling.out"
  CEILING_PORT=$(free_port)
  "$1" "${JVM_OPTS[@]}" samples/bench/EventLoopCeiling.java "$CEILING_PORT" "$ORIGIN_PORT" > "$out" 2>&1 &
  CEILING_PID=$!; STARTED+=("$CEILING_PID")
  for _ in $(seq 1 300); do grep -q Listening "$out" && break; sleep 0.1; done
  grep -q Listening "$out" || { echo "EventLoopCeiling did not start:" >&2; cat "$out" >&2; exit 1; }
}

start_littleproxy() {
  local out="$WORK/littleproxy/out"
  LP_PORT=$(free_port)
  "$1" "${JVM_OPTS[@]}" -cp "$WORK/littleproxy/lib/*" samples/bench/LittleProxyPeer.java "$LP_PORT" > "$out" 2>&1 &
  LP_PID=$!; STARTED+=("$LP_PID")
  for _ in $(seq 1 300); do grep -q Listening "$out" && break; sleep 0.1; done
  grep -q Listening "$out" || { echo "LittleProxy did not start:" >&2; cat "$out" >&2; exit 1; }
}

# --- measurement ---------------------------------------------------------------------------------
cpu_ticks() { # $@ = pids; user+sys clock ticks, summed (fields 14 and 15, after the "(comm)")
  local p sum=0
  for p in "$@"; do
    [ -r "/proc/$p/stat" ] || continue
    sum=$((sum + $(sed 's/.*) //' "/proc/$p/stat" | awk '{print $12 + $13}')))
  done
  echo "$sum"
}
peak_rss_kb() { # $@ = pids; VmHWM summed
  local p sum=0
  for p in "$@"; do
    [ -r "/proc/$p/status" ] || continue
    sum=$((sum + $(awk '/^VmHWM/ {print $2}' "/proc/$p/status")))
  done
  echo "$sum"
}
TCK=$(getconf CLK_TCK)
case "$DURATION" in *m) DSECONDS=$((${DURATION%m} * 60)) ;; *) DSECONDS=${DURATION%s} ;; esac

allocated() { # $1 = admin port or ""; Ferry's heap bytes allocated so far, or 0
  [ -n "$1" ] || { echo 0; return; }
  curl -s --max-time 5 "http://127.0.0.1:$1/metrics" |
    awk '$1 == "jvm_threads_allocated_bytes_total" { printf "%.0f\n", $2; found = 1 } END { if (!found) print 0 }'
}

# Prints "rps p99_ms cpu_us_per_request non2xx socket_errors alloc_bytes_per_request" for one wrk
# run on $1 at size $2 (allocation 0 where there is no admin port $4); $5 = the row's kind.
measure() {
  local port=$1 size=$2 pids=$3 admin=${4:-} kind=${5:-} before after out abefore aafter
  abefore=$(allocated "$admin")
  before=$(cpu_ticks $pids)
  out=$(timeout $((DSECONDS + 30)) wrk -t2 -c"$CONNS" -d"$DURATION" --latency $(forward_script "$kind" "$size") \
    "http://127.0.0.1:$port/bytes/$size") ||
    echo "WARNING: wrk failed on 127.0.0.1:$port/bytes/$size" >&2
  after=$(cpu_ticks $pids)
  aafter=$(allocated "$admin")
  echo "$out" | awk -v ticks=$((after - before)) -v tck="$TCK" -v alloc=$((aafter - abefore)) '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    / requests in / { n = $1 }
    /^Requests\/sec/ { rps = $2 }
    $1 == "99%" { p99 = ms($2) }
    /Non-2xx/ { bad = $NF }
    /Socket errors/ { gsub(/,/, ""); err = $4 + $6 + $8 + $10 }
    END { printf "%.0f %.2f %.1f %d %d %.0f\n", rps, p99, n ? ticks * 1e6 / tck / n : 0, bad, err, n ? alloc / n : 0 }'
}

# wrk's options for a row of kind $1 at size $2: a forward proxy gets absolute-form targets.
forward_script() {
  case "$1" in forward|littleproxy) echo "-s $WORK/forward-$2.lua" ;; esac
}

# Checks that a row answers 200 with the right length (and, for a cache row, X-Cache: HIT).
check_row() { # $1 = label, $2 = port, $3 = kind
  local size got via=() url
  for size in "${SIZES[@]}"; do
    url="http://127.0.0.1:$2/bytes/$size"
    case "$3" in
      forward|littleproxy) via=(-x "http://127.0.0.1:$2"); url="http://127.0.0.1:$ORIGIN_PORT/bytes/$size" ;;
    esac
    curl -s -o /dev/null --max-time 5 "${via[@]}" "$url" || true
    got=$(curl -s -D - -o /dev/null --max-time 5 -w 'len=%{size_download} code=%{http_code}' \
      "${via[@]}" "$url" | tr -d '\r' | awk '
      tolower($1) == "x-cache:" { c = $2 } /^len=/ { print $0, "x-cache=" (c ? c : "-") }') || true
    case "$got" in "len=$size code=200"*) ;; *) echo "WARNING: $1 /bytes/$size: $got" >&2 ;; esac
    if [ "$3" = cache ] && [[ "$got" != *x-cache=HIT* ]]; then echo "WARNING: $1 /bytes/$size not a cache hit: $got" >&2; fi
  done
}

# --- the peers -----------------------------------------------------------------------------------
echo "compare.sh: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "  $(nginx -v 2>&1), $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2), java 17: $("$JAVA17" -version 2>&1 | head -1)$($HAVE25 && echo ", java 25: $("$JDK25/bin/java" -version 2>&1 | head -1)")" >&2
awk -v n="$(nproc)" '$1 > n / 2 { printf "  WARNING: load average %s on %d cores: other work is running, numbers will be noisy\n", $1, n }' /proc/loadavg >&2
echo "  wrk -t2 -c$CONNS -d$DURATION --latency, warm-up $JIT_WARMUP once then $WARMUP per run, median of $ROUNDS round(s); JVMs ${JVM_OPTS[*]}" >&2

ORIGIN_DIR=$WORK/origin; mkdir -p "$ORIGIN_DIR/html/bytes"
for size in "${SIZES[@]}" 16; do head -c "$size" /dev/urandom > "$ORIGIN_DIR/html/bytes/$size"; done
chmod -R a+rX "$ORIGIN_DIR/html"
ORIGIN_PORT=$(free_port)
# expires 10m = Cache-Control: max-age=600, so both nginx's proxy_cache and Ferry's cache store it.
nginx_conf "$ORIGIN_DIR" "  server { listen 127.0.0.1:$ORIGIN_PORT; root html; expires 10m; }"
start_nginx "$ORIGIN_DIR" "$ORIGIN_PORT"; ORIGIN_PIDS=$NGINX_PIDS

UPSTREAM="  upstream origin { server 127.0.0.1:$ORIGIN_PORT; keepalive $((CONNS > 64 ? CONNS : 64)); keepalive_requests 1000000; keepalive_timeout 600s; }"
# proxy_buffers 32 8k holds a whole 100 KiB response in memory, as Ferry streams it, rather than
# spilling to a temporary file.
PROXY="proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_buffers 32 8k;"
nginx_proxy() { # $1 = dir, $2 = port, $3 = extra http{} lines, $4 = extra location lines
  nginx_conf "$1" "$UPSTREAM
$3
  server { listen 127.0.0.1:$2; location / { $PROXY $4 } }"
}

ROWS=()   # label|kind|port|pids|admin ; kind: origin, reverse (vs nginx reverse), cache (vs proxy_cache)
ROWS+=("nginx static origin (direct, no proxy)|origin|$ORIGIN_PORT|$ORIGIN_PIDS")
P=$(free_port); nginx_proxy "$WORK/nginx-reverse" "$P" "" ""
start_nginx "$WORK/nginx-reverse" "$P"
ROWS+=("nginx reverse proxy|reverse|$P|$NGINX_PIDS")
# The defaults: a plain reverse proxy's GETs on the event loops, the rest on -c auto's threads.
FERRY_FLAGS=(); start_ferry "$JAVA17"
ROWS+=("Ferry reverse, Java 17 (default: loops + pool)|reverse|$FERRY_PORT|$FERRY_PID|$FERRY_ADMIN")
# The same with a small initial heap: G1 fills whatever young generation its initial heap (1/64 of
# RAM by default) allows, whatever the allocation rate, so -Xms, not the code, decides most of RSS.
start_ferry "$JAVA17" -Xms64m
ROWS+=("Ferry reverse, Java 17, -Xms64m|reverse|$FERRY_PORT|$FERRY_PID|$FERRY_ADMIN")
if $HAVE25; then
  start_ferry "$JDK25/bin/java"
  ROWS+=("Ferry reverse, Java 25 (default: loops + virtual)|reverse|$FERRY_PORT|$FERRY_PID|$FERRY_ADMIN")
fi
# Without the event loops (--no-event-loop): every exchange on the concurrency model's threads.
FERRY_FLAGS=(--no-event-loop); start_ferry "$JAVA17"
ROWS+=("Ferry reverse, Java 17, --no-event-loop (pool)|reverse|$FERRY_PORT|$FERRY_PID|$FERRY_ADMIN")
if $HAVE25; then
  start_ferry "$JDK25/bin/java"
  ROWS+=("Ferry reverse, Java 25, --no-event-loop (virtual)|reverse|$FERRY_PORT|$FERRY_PID|$FERRY_ADMIN")
fi
FERRY_FLAGS=()
# What an event loop in Java can reach here at best: bytes relayed, no HTTP work at all.
start_ceiling "$JAVA17"
ROWS+=("Java NIO event-loop ceiling, Java 17 (bytes only, no HTTP work)|reverse|$CEILING_PORT|$CEILING_PID|")
P=$(free_port); nginx_proxy "$WORK/nginx-cache" "$P" \
  "  proxy_cache_path cache levels=1:2 keys_zone=bench:16m max_size=256m inactive=60m use_temp_path=off;" \
  "proxy_cache bench; proxy_cache_valid 200 10m; add_header X-Cache \$upstream_cache_status;"
start_nginx "$WORK/nginx-cache" "$P"
ROWS+=("nginx proxy_cache hits|cache|$P|$NGINX_PIDS")
FERRY_FLAGS=(-m 64); start_ferry "$JAVA17"
ROWS+=("Ferry cache hits, Java 17 (default: loops + pool)|cache|$FERRY_PORT|$FERRY_PID|$FERRY_ADMIN")
if $HAVE25; then
  start_ferry "$JDK25/bin/java"
  ROWS+=("Ferry cache hits, Java 25 (default: loops + virtual)|cache|$FERRY_PORT|$FERRY_PID|$FERRY_ADMIN")
fi
FERRY_FLAGS=(-m 64 --no-event-loop); start_ferry "$JAVA17"
ROWS+=("Ferry cache hits, Java 17, --no-event-loop (pool)|cache|$FERRY_PORT|$FERRY_PID|$FERRY_ADMIN")
if $HAVE25; then
  start_ferry "$JDK25/bin/java"
  ROWS+=("Ferry cache hits, Java 25, --no-event-loop (virtual)|cache|$FERRY_PORT|$FERRY_PID|$FERRY_ADMIN")
fi
FERRY_FLAGS=()
for size in "${SIZES[@]}"; do
  echo "wrk.path = \"http://127.0.0.1:$ORIGIN_PORT/bytes/$size\"" > "$WORK/forward-$size.lua"
done
echo "  fetching LittleProxy $LITTLEPROXY from Maven Central ..." >&2
if fetch_littleproxy; then
  start_littleproxy "$JAVA17"
  ROWS+=("LittleProxy $LITTLEPROXY forward proxy, Java 17|littleproxy|$LP_PORT|$LP_PID|")
else
  echo "  WARNING: LittleProxy could not be fetched; its row is skipped:" >&2
  tail -5 "$WORK/littleproxy/fetch.log" >&2
fi
FERRY_MODE=forward start_ferry "$JAVA17"
ROWS+=("Ferry forward, Java 17 (default: loops + pool)|forward|$FERRY_PORT|$FERRY_PID|$FERRY_ADMIN")
if $HAVE25; then
  FERRY_MODE=forward start_ferry "$JDK25/bin/java"
  ROWS+=("Ferry forward, Java 25 (default: loops + virtual)|forward|$FERRY_PORT|$FERRY_PID|$FERRY_ADMIN")
fi

for row in "${ROWS[@]}"; do
  IFS='|' read -r label kind port pids admin <<< "$row"
  check_row "$label" "$port" "$kind"
done

# Rounds are the outer loop and every peer stays up, so a slow spell on this shared machine hits
# every row alike instead of one.
RESULTS=$WORK/results
echo "  JIT warm-up: $JIT_WARMUP per row and size ..." >&2
for size in "${SIZES[@]}"; do
  for row in "${ROWS[@]}"; do
    IFS='|' read -r label kind port pids admin <<< "$row"
    timeout 120 wrk -t2 -c"$CONNS" -d"$JIT_WARMUP" $(forward_script "$kind" "$size") "http://127.0.0.1:$port/bytes/$size" > /dev/null ||
      echo "WARNING: JIT warm-up failed for $label" >&2
  done
done
for round in $(seq 1 "$ROUNDS"); do
  for size in "${SIZES[@]}"; do
    for i in "${!ROWS[@]}"; do
      IFS='|' read -r label kind port pids admin <<< "${ROWS[i]}"
      timeout 60 wrk -t2 -c"$CONNS" -d"$WARMUP" $(forward_script "$kind" "$size") "http://127.0.0.1:$port/bytes/$size" > /dev/null ||
        echo "WARNING: warm-up failed for $label" >&2
      r=$(measure "$port" "$size" "$pids" "$admin" "$kind")
      echo "$i $size $r" >> "$RESULTS"
      printf '  round %d %6d B  %-42s rps=%s p99_ms=%s cpu_us=%s non2xx=%s errors=%s alloc_b=%s\n' \
        "$round" "$size" "$label" $r >&2
    done
  done
done

# --- the table -----------------------------------------------------------------------------------
median() { # $1 = row index, $2 = size, $3 = column (3 rps, 4 p99, 5 cpu, 8 allocation)
  awk -v i="$1" -v s="$2" -v c="$3" '$1 == i && $2 == s { print $c }' "$RESULTS" | sort -g |
    awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
baseline() { # $1 = kind; index of the nginx row that a row of this kind is compared with
  local i
  for i in "${!ROWS[@]}"; do
    case "$1:${ROWS[i]}" in
      reverse:"nginx reverse proxy|"*|cache:"nginx proxy_cache hits|"*|forward:"LittleProxy "*) echo "$i"; return ;;
    esac
  done
  echo -1
}
echo
echo "$(date -u +%Y-%m-%d), $(nproc) cores, $(nginx -v 2>&1 | sed 's/.*version: //'), wrk -t2 -c$CONNS -d$DURATION, median of $ROUNDS:" \
  "\`DURATION=$DURATION ROUNDS=$ROUNDS IDLE=$IDLE SIZES=\"${SIZES[*]}\" samples/bench/compare.sh\`"
echo
header="| path"; rule="| ---"
for size in "${SIZES[@]}"; do
  header+=" | $(awk -v s="$size" 'BEGIN { print (s % 1024 ? s " B" : s / 1024 " KiB") }') req/s | ×peer | p99 | CPU µs/req | alloc/req"
  rule+=" | ---: | ---: | ---: | ---: | ---:"
done
echo "$header | peak RSS |"
echo "$rule | ---: |"
for i in "${!ROWS[@]}"; do
  IFS='|' read -r label kind port pids admin <<< "${ROWS[i]}"
  base=$(baseline "$kind")
  line="| $label"
  for size in "${SIZES[@]}"; do
    rps=$(median "$i" "$size" 3); p99=$(median "$i" "$size" 4); cpu=$(median "$i" "$size" 5)
    alloc="—"; [ -n "$admin" ] && alloc="$(awk -v b="$(median "$i" "$size" 8)" 'BEGIN { printf "%.1f KiB", b / 1024 }')"
    bad=$(awk -v i="$i" -v s="$size" '$1 == i && $2 == s { b += $6 + $7 } END { print b + 0 }' "$RESULTS")
    ratio="—"
    [ "$base" -ge 0 ] && ratio=$(awk -v a="$rps" -v b="$(median "$base" "$size" 3)" 'BEGIN { printf "%.2f", b ? a / b : 0 }')
    line+=$(awk -v r="$rps" -v x="$ratio" -v p="$p99" -v c="$cpu" -v bad="$bad" -v a="$alloc" \
      'BEGIN { printf " | %.0f%s | %s | %.1f ms | %.0f | %s", r, bad ? " (" bad " errors)" : "", x, p, c, a }')
  done
  echo "$line | $(( $(peak_rss_kb $pids) / 1024 )) MiB |"
done
echo
echo "×peer: reverse-proxy rows against nginx reverse proxy, cache-hit rows against nginx proxy_cache,"
echo "forward rows against LittleProxy."
echo "CPU and peak RSS are the proxy's own (nginx: master + workers); the origin is measured only in its own row."
echo "alloc/req: Ferry's heap allocation per request (jvm_threads_allocated_bytes_total from its /metrics)."

# --- idle connections ----------------------------------------------------------------------------
# The load peers stop first; each idle probe gets a fresh server with the origin still up.
for row in "${ROWS[@]:1}"; do IFS='|' read -r label kind port pids admin <<< "$row"; stop_started $pids; done
if [ "$IDLE" -le 0 ]; then
  exit 0
fi
PROBE=samples/bench/IdleProbe.java
IDLE_ROWS=()
idle_probe() { # $1 = label, $2 = port, $3 = pids (comma-separated), $4 = jcmd or ""
  local out
  echo "  idle probe: $1, $IDLE connections, held ${HOLD}s ..." >&2
  out=$(timeout $((HOLD + 240)) "$JAVA17" "$PROBE" "$2" "$IDLE" "$HOLD" /bytes/16 "$3" ${4:+"$4"} || echo "probe failed")
  echo "  $out" >&2
  IDLE_ROWS+=("$1|$out")
}
P=$(free_port); nginx_proxy "$WORK/nginx-idle" "$P" "" ""
start_nginx "$WORK/nginx-idle" "$P"
idle_probe "nginx reverse proxy" "$P" "$(echo $NGINX_PIDS | tr ' ' ',')" ""
stop_started $NGINX_PIDS
# A fresh Ferry per model; --max-connections above IDLE so the probe measures the concurrency
# model, not the connection limit (default 10000); the heap-free ratios let G1 return the heap
# freed by the probe's GC.run, so RSS shows live memory.
JVM_OPTS=(-Xmx1g -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=30)
for loops in default --no-event-loop; do
  FERRY_FLAGS=(--max-connections $((IDLE + 100)))
  [ "$loops" = default ] || FERRY_FLAGS+=("$loops")
  start_ferry "$JAVA17"
  idle_probe "Ferry, Java 17 ($([ "$loops" = default ] && echo "default: loops + pool" || echo "$loops, pool"))" \
    "$FERRY_PORT" "$FERRY_PID" "$JCMD17"
  stop_started "$FERRY_PID"
  if $HAVE25; then
    start_ferry "$JDK25/bin/java"
    idle_probe "Ferry, Java 25 ($([ "$loops" = default ] && echo "default: loops + virtual" || echo "$loops, virtual"))" \
      "$FERRY_PORT" "$FERRY_PID" "$JDK25/bin/jcmd"
    stop_started "$FERRY_PID"
  fi
done

echo
echo "| $IDLE idle keep-alive connections, ${HOLD} s | held | answered after hold | closed during hold | not kept (Connection: close) | refused | no answer | KiB per idle connection |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for row in "${IDLE_ROWS[@]}"; do
  label=${row%%|*}; out=${row#*|}
  case "$out" in *held=*) ;; *) echo "| $label | probe failed: $out |||||||"; continue ;; esac
  get() { echo "$out" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2 }'; }
  kib() { # the growth is shared by fewer connections than were offered: say so next to the figure
    local kept=$(( $(get held) - $(get closed_after_hold) ))
    [ "$kept" -lt "$IDLE" ] && echo "$(get kib_per_connection) (over $kept kept)" || get kib_per_connection
  }
  echo "| $label | $(get held) | $(get answered) | $(get closed_after_hold) | $(get shed) | $(get refused) | $(get no_answer) | $(kib) |"
done
echo
echo "held: answered its first GET and kept the connection open; answered after hold: answered a second"
echo "GET on it after ${HOLD} s idle (128 in flight at a time); closed during hold: closed by the server"
echo "meanwhile; not kept: answered with Connection: close; refused: 503, reset or closed on the first"
echo "GET; no answer: nothing within 2 s. KiB per idle connection: (RSS at the end of the hold - RSS"
echo "before) / connections still open; JVMs after jcmd GC.run; nginx: master + workers."
