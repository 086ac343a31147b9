# Sourced by profile.sh, ab.sh and slowloris.sh (run from the repository root, after ports.sh), never run itself.

# Stops every process in the caller's PIDS array (the origin and the proxies started), waiting up
# to 20 s for each: the scripts' EXIT trap.
stop_pids() {
  local p
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && timeout 20 tail --pid="$p" -f /dev/null 2>/dev/null || true; done
}

# Exits 0 with a "skipped" message naming the script ($1) unless nginx, wrk and curl are installed.
require_load_tools() {
  PATH=$PATH:/usr/sbin:/sbin
  local tool
  for tool in nginx wrk curl; do
    command -v "$tool" >/dev/null || { echo "$1: skipped: $tool is missing (apt-get install -y nginx wrk curl)"; exit 0; }
  done
}

# Makes the run's work directory WORK (named after the script, $1) and, on exit, stops every
# process in PIDS and removes WORK (KEEP=1 keeps it).
make_workdir() {
  WORK=$(mktemp -d "/tmp/ferry-$1.XXXXXX")
  chmod 755 "$WORK"
  PIDS=()
  trap 'stop_pids; [ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"' EXIT
  trap 'exit 130' INT TERM
}

# Starts a one-worker nginx serving a random body of $2 bytes at /bytes/$2 from directory $1 on a
# free loopback port: sets ORIGIN_PORT and appends nginx's PID to the caller's PIDS array.
start_static_origin() {
  local dir=$1 size=$2
  mkdir -p "$dir/html/bytes" "$dir/tmp"
  head -c "$size" /dev/urandom > "$dir/html/bytes/$size"
  chmod -R a+rX "$dir/html"
  ORIGIN_PORT=$(free_port)
  cat > "$dir/nginx.conf" <<EOF
worker_processes 1; daemon off; pid nginx.pid; error_log error.log warn;
events { worker_connections 4096; }
http {
  access_log off; sendfile on; keepalive_requests 1000000; keepalive_timeout 600s;
  client_body_temp_path tmp/body; proxy_temp_path tmp/proxy; fastcgi_temp_path tmp/fastcgi;
  uwsgi_temp_path tmp/uwsgi; scgi_temp_path tmp/scgi;
  server { listen 127.0.0.1:$ORIGIN_PORT; root html; expires 10m; error_page 405 =200 \$uri; client_max_body_size 0; }
}
EOF
  nginx -p "$dir/" -c nginx.conf > "$dir/nginx.out" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 100); do ss -Hltn "sport = :$ORIGIN_PORT" | grep -q . && return 0; sleep 0.1; done
  echo "nginx did not start on port $ORIGIN_PORT" >&2; cat "$dir/nginx.out" >&2; return 1
}

# Starts SlowOrigin.java (an origin answering every request with $2 bytes after $3 ms) on a free
# loopback port, on Temurin 25 where installed (a virtual thread per request), else on java:
# sets ORIGIN_PORT and appends its PID to the caller's PIDS array. $1 is the run's directory.
start_slow_origin() {
  local dir=$1 size=$2 delay=$3 java=java
  [ -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/java ] && java=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java
  ORIGIN_PORT=$(free_port)
  "$java" samples/bench/SlowOrigin.java "$ORIGIN_PORT" "$delay" "$size" > "$dir/origin.out" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 300); do ss -Hltn "sport = :$ORIGIN_PORT" | grep -q . && return 0; sleep 0.1; done
  echo "SlowOrigin did not start on port $ORIGIN_PORT" >&2; cat "$dir/origin.out" >&2; return 1
}

# Warms a JVM up under wrk's load: a run of $WARMUP, then one of $REWARM (8s) on new connections,
# then the caller measures. Connections that last the whole first run never close while it runs,
# so the first closes (at its end) take branches that C2 compiled as never taken: it throws away
# the hottest compiled methods (the wait for a request, the socket reads) and compiles them again,
# up to 2.3 s of compiler CPU on Java 17 (0.6 s in another run), which without the second run fell
# into the measured window (up to about 15 % of its CPU samples). Arguments: the URL, then wrk's
# options.
warm_up() {
  local url=$1
  shift
  timeout 120 wrk "$@" -d"$WARMUP" "$url" > /dev/null
  timeout 60 wrk "$@" -d"${REWARM:-8s}" "$url" > /dev/null
}

# With TLS=1: makes a throwaway certificate for 127.0.0.1 in directory $1 and sets SCHEME=https and
# TLS_FLAGS (the CLI's --tls-cert/--tls-key for it); else SCHEME=http and no flags. Exits naming
# the script ($2) if openssl is missing.
tls_listener() {
  SCHEME=http
  TLS_FLAGS=""
  [ "${TLS:-0}" = 1 ] || return 0
  command -v openssl > /dev/null || { echo "$2: TLS=1 needs openssl (apt-get install openssl)"; exit 1; }
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$1/key.sec1.pem" -out "$1/cert.pem" 2> /dev/null
  openssl pkcs8 -topk8 -nocrypt -in "$1/key.sec1.pem" -out "$1/key.pem"
  SCHEME=https
  TLS_FLAGS="--tls-cert $1/cert.pem --tls-key $1/key.pem"
}
