/**
 * Internal. No compatibility guarantee.
 *
 * <p>Latency histograms behind the stats' percentiles.
 *
 * <p>Null policy: no parameter accepts {@code null} and no method returns {@code null} unless
 * its comment says so.
 */
package dev.ferry.proxy.engine.metrics;
