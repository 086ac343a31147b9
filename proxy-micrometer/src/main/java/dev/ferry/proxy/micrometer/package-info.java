/**
 * Binds a Ferry proxy to a Micrometer {@code MeterRegistry}: {@link
 * dev.ferry.proxy.micrometer.FerryMetrics} records every exchange and exposes the proxy's gauges,
 * so an application that embeds Ferry sees its metrics in the registry it already has.
 *
 * <p>Null policy: no parameter in this package accepts {@code null} and no method returns
 * {@code null}.
 */
package dev.ferry.proxy.micrometer;
