#!/usr/bin/env bash
# Start and stop times of a proxy once the JVM is warm (median, p90, max over RUNS after WARMUP):
# the cost a test suite pays for a fresh proxy per test. Loopback only, ephemeral ports.
#   ./mvnw -q -DskipTests package && samples/bench/start-stop.sh [RUNS [WARMUP]]
set -euo pipefail
cd "$(dirname "$0")/../.."
JAR=samples/target/ferry.jar
[ -f "$JAR" ] || { echo "build first: ./mvnw -DskipTests package"; exit 1; }
exec "${JAVA:-java}" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$JAR" \
  dev.ferry.samples.bench.StartStopBench "$@"
