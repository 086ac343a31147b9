/**
 * Internal. No compatibility guarantee.
 *
 * <p>Request IDs and W3C Trace Context: what the proxy adds to each request so that its logs,
 * the upstream's and the client's can be joined.
 *
 * <p>Null policy: no parameter accepts {@code null} and no method returns {@code null} unless
 * its comment says so.
 */
package dev.ferry.proxy.engine.trace;
