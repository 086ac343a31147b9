/**
 * Benchmark helpers run by {@code samples/bench/*.sh}: a minimal origin, an idle-connection
 * probe and a start/stop timer. Loopback only.
 */
package dev.ferry.samples.bench;
