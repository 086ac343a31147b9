/**
 * The service-provider interface between Ferry's API and its engine. Not for application code.
 *
 * <p>Null policy: no parameter accepts {@code null} and no method returns {@code null}.
 */
package dev.ferry.proxy.spi;
