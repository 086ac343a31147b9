#!/usr/bin/env bash
# Where a proxied request's cost goes, Ferry against nginx's reverse proxy on the same load: per
# request, the proxy's system calls (all of them, and the reads, writes and epoll calls apart),
# its context switches, the TCP segments the machine sent, and the proxy's CPU split into user
# and system time. Equal system calls and segments with more user time say the gap is the
# proxy's own code, not how it talks to the kernel. A one-worker nginx static origin on loopback;
# nginx (2 workers, upstream keep-alive) and Ferry (-q, -Xmx1g) in front of it; each warmed up,
# then counted with `perf stat` on its processes over one wrk run.
# Loopback only; every run is bounded in time; everything started is stopped on exit.
#   ./mvnw -q -DskipTests package && samples/bench/syscalls.sh
#   SIZE=102400 samples/bench/syscalls.sh
#   FLAGS="--no-event-loop" samples/bench/syscalls.sh    # extra CLI flags for Ferry
# Settings: SIZE of the body (1024), DURATION of the counted run (5s), WARMUP (20s) and REWARM
# (8s, see warm_up in origin.sh) for Ferry, CONNS (64), JAVA (java on PATH), FLAGS. Needs nginx,
# wrk, curl and perf (apt-get install -y nginx wrk curl linux-perf; perf needs the kernel's
# tracepoints, so not every container has them).
set -euo pipefail
cd "$(dirname "$0")/../.."
source samples/bench/ports.sh
source samples/bench/origin.sh
JAR=samples/target/ferry.jar
SIZE=${SIZE:-1024}
DURATION=${DURATION:-5s}
WARMUP=${WARMUP:-20s}
CONNS=${CONNS:-64}
JAVA=${JAVA:-java}
[ -f "$JAR" ] || { echo "build first: ./mvnw -q -DskipTests package"; exit 1; }
require_load_tools syscalls.sh
command -v perf > /dev/null || { echo "syscalls.sh: skipped: perf is missing (apt-get install -y linux-perf)"; exit 0; }
perf stat -e raw_syscalls:sys_enter -- true > /dev/null 2>&1 \
  || { echo "syscalls.sh: skipped: perf cannot count the kernel's syscall tracepoints here"; exit 0; }

make_workdir syscalls
start_static_origin "$WORK/origin" "$SIZE"

PROXY_PORT=$(free_port)
mkdir -p "$WORK/nginx/tmp"
cat > "$WORK/nginx/nginx.conf" <<EOF
worker_processes 2; daemon off; pid nginx.pid; error_log error.log warn;
events { worker_connections 4096; }
http {
  access_log off; keepalive_requests 1000000; keepalive_timeout 600s;
  client_body_temp_path tmp/body; proxy_temp_path tmp/proxy; fastcgi_temp_path tmp/fastcgi;
  uwsgi_temp_path tmp/uwsgi; scgi_temp_path tmp/scgi;
  upstream origin { server 127.0.0.1:$ORIGIN_PORT; keepalive 64; keepalive_requests 1000000; keepalive_timeout 600s; }
  server { listen 127.0.0.1:$PROXY_PORT; location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffers 32 8k; } }
}
EOF
nginx -p "$WORK/nginx/" -c nginx.conf > "$WORK/nginx/nginx.out" 2>&1 &
NGINX=$!
PIDS+=("$NGINX")
for _ in $(seq 1 100); do ss -Hltn "sport = :$PROXY_PORT" | grep -q . && break; sleep 0.1; done
sleep 0.3   # the workers fork right after the bind
NGINX_WORKERS=$(ps -o pid= --ppid "$NGINX" | tr -d ' ' | paste -sd, -)

FERRY_PORT=$(free_port)
read -r -a EXTRA_FLAGS <<< "${FLAGS:-}"
"$JAVA" -Xmx1g -jar "$JAR" -q -p "$FERRY_PORT" --upstream "http://127.0.0.1:$ORIGIN_PORT" "${EXTRA_FLAGS[@]}" \
  > "$WORK/ferry.out" 2>&1 &
FERRY=$!
PIDS+=("$FERRY")
for _ in $(seq 1 300); do grep -q Listening "$WORK/ferry.out" 2>/dev/null && break; sleep 0.1; done
for port in "$FERRY_PORT" "$PROXY_PORT"; do
  [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$port/bytes/$SIZE")" = 200 ] \
    || { echo "no 200 through 127.0.0.1:$port" >&2; cat "$WORK/ferry.out" >&2; exit 1; }
done

echo "syscalls.sh: $("$JAVA" -version 2>&1 | head -1), body $SIZE B, wrk -t2 -c$CONNS -d$DURATION${FLAGS:+, Ferry flags $FLAGS}" >&2
warm_up "http://127.0.0.1:$FERRY_PORT/bytes/$SIZE" -t2 -c"$CONNS"
timeout 60 wrk -t2 -c"$CONNS" -d3s "http://127.0.0.1:$PROXY_PORT/bytes/$SIZE" > /dev/null

EVENTS=context-switches,raw_syscalls:sys_enter,syscalls:sys_enter_read,syscalls:sys_enter_recvfrom
EVENTS+=,syscalls:sys_enter_readv,syscalls:sys_enter_write,syscalls:sys_enter_writev,syscalls:sys_enter_sendto
EVENTS+=,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_epoll_ctl,syscalls:sys_enter_futex

ticks() { # $1 = comma-separated PIDs; prints their user and system ticks
  local p
  for p in ${1//,/ }; do awk '{print $14, $15}' "/proc/$p/stat"; done | awk '{u += $1; s += $2} END {print u, s}'
}
segments() { # TCP segments sent by the machine so far
  awk '$1 == "Tcp:" && $2 ~ /^[0-9]/ {print $12}' /proc/net/snmp
}

count() { # $1 = label, $2 = port, $3 = PIDs
  local before after seg0 seg1 n
  before=$(ticks "$3")
  seg0=$(segments)
  timeout 90 perf stat -e "$EVENTS" -p "$3" -o "$WORK/$1.perf" -- \
    timeout 60 wrk -t2 -c"$CONNS" -d"$DURATION" "http://127.0.0.1:$2/bytes/$SIZE" > "$WORK/$1.wrk"
  seg1=$(segments)
  after=$(ticks "$3")
  n=$(awk '/requests in/ {print $1}' "$WORK/$1.wrk")
  echo "$1: $(awk '/Requests\/sec/ {printf "%.0f", $2}' "$WORK/$1.wrk") req/s, per request:"
  echo "$before $after $seg0 $seg1" | awk -v n="$n" -v hz="$(getconf CLK_TCK)" '{
    printf "  %6.1f us user CPU, %6.1f us system CPU, %5.2f TCP segments sent\n",
      ($3 - $1) * 1e6 / hz / n, ($4 - $2) * 1e6 / hz / n, ($6 - $5) / n }'
  awk -v n="$n" '$2 ~ /syscalls|context/ { gsub(",", "", $1); if ($1 + 0 > 0) {
      name = $2; sub(/.*sys_enter_?/, "", name); if (name == "") name = "all system calls"
      printf "  %6.2f %s\n", $1 / n, name } }' "$WORK/$1.perf"
}

# perf counts the processes from its start; wrk, run under it, bounds the window.
count ferry "$FERRY_PORT" "$FERRY"
count nginx "$PROXY_PORT" "$NGINX_WORKERS"
