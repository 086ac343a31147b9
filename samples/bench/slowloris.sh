#!/usr/bin/env bash
# Slowloris against Ferry: SLOW connections (SlowClients.java beside this script) each send the
# start of a request head and then a header line every 5 s, never finishing it, while wrk
# measures ordinary clients through the same proxy. A proxy whose threads wait on unfinished
# heads stops serving everyone else; Ferry parks them. With TLS=1 Ferry terminates TLS, wrk
# speaks https, and each slow connection sends a TLS ClientHello and then nothing: a handshake
# left stalled. With BODY=1 each slow connection sends a whole POST head declaring a 1 MiB
# body with its first 1,500 bytes, then 1,500 more every 5 s: a slow upload, always ahead of
# the default minimum body rate. With BODY=trickle, 100 bytes every 5 s: uploads too slow for
# that minimum, answered 408 after the 5 s grace while they go on sending. With BODY=large, the
# pace of BODY=1 under a declared 64 MiB: larger than the request buffer, so received on disk.
# With BODY=chunked, a body of unknown length: a first chunk of 20,000 bytes, then 1,500-byte
# chunks at the pace of BODY=1.
# An nginx static origin on loopback.
# Loopback only; every run is bounded in time; everything started is stopped on exit.
#   ./mvnw -q -DskipTests package && samples/bench/slowloris.sh
#   JAR=/tmp/before.jar SLOW=3000 samples/bench/slowloris.sh
#   TLS=1 samples/bench/slowloris.sh
#   BODY=1 samples/bench/slowloris.sh
# Settings: JAR (samples/target/ferry.jar), JAVA (java on PATH: Java 17 runs the default bounded
# pool), FLAGS (extra CLI flags), SLOW connections (1500), DURATION of the wrk run (10s), TLS
# (1: stalled handshakes; needs openssl), BODY (1: slow uploads; trickle: too slow; large: slow 64 MiB uploads; chunked: slow chunked ones). Needs nginx, wrk and curl.
set -euo pipefail
cd "$(dirname "$0")/../.."
source samples/bench/ports.sh
source samples/bench/origin.sh
JAR=${JAR:-samples/target/ferry.jar}
JAVA=${JAVA:-java}
SLOW=${SLOW:-1500}
DURATION=${DURATION:-10s}
[ -f "$JAR" ] || { echo "slowloris.sh: no $JAR (build first: ./mvnw -q -DskipTests package)"; exit 1; }
require_load_tools slowloris.sh

make_workdir slowloris

start_static_origin "$WORK" 1024
tls_listener "$WORK" slowloris.sh
port=$(free_port)
read -r -a flags <<< "${FLAGS:-} $TLS_FLAGS"
"$JAVA" -Xmx512m -jar "$JAR" -q -p "$port" --upstream "http://127.0.0.1:$ORIGIN_PORT" "${flags[@]}" \
  > "$WORK/ferry.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 300); do grep -q Listening "$WORK/ferry.out" 2>/dev/null && break; sleep 0.1; done
wrk_seconds=${DURATION%s}
"$JAVA" samples/bench/SlowClients.java "$port" "$SLOW" $((wrk_seconds + 15)) \
  "$(case "${BODY:-0}" in 1) echo body ;; trickle) echo trickle ;; large) echo large ;; chunked) echo chunked ;; *) echo "$SCHEME" ;; esac)" \
  > "$WORK/slow.out" 2>&1 &
slow=$!
PIDS+=("$slow")
sleep 5 # let the slow connections open
echo "slowloris.sh: $("$JAVA" -version 2>&1 | head -1), $SCHEME, $SLOW slow clients, wrk -t2 -c32 -d$DURATION, $JAR ${FLAGS:-}" >&2
timeout 120 wrk -t2 -c32 -d"$DURATION" --timeout 2s "$SCHEME://127.0.0.1:$port/bytes/1024" > "$WORK/wrk.out"
timeout 60 tail --pid="$slow" -f /dev/null || true
echo "requests=$(awk '/requests in/ {print $1}' "$WORK/wrk.out")" \
  "rps=$(awk '/Requests\/sec/ {printf "%.0f", $2}' "$WORK/wrk.out")" \
  "non_2xx=$(awk '/Non-2xx/ {print $NF}' "$WORK/wrk.out" | grep . || echo 0)" \
  "latency_max=$(awk '/Latency/ {print $4}' "$WORK/wrk.out")" \
  "$(cat "$WORK/slow.out")"
