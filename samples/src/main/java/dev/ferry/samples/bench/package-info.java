/**
 * Benchmark helpers run by {@code samples/bench/*.sh}: a minimal origin and an idle-connection
 * probe. Loopback only.
 */
package dev.ferry.samples.bench;
