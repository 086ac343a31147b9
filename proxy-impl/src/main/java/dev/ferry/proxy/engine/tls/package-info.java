/**
 * Internal. No compatibility guarantee.
 *
 * <p>TLS material: PEM and keystore reading, the listener's server contexts (SNI, client
 * authentication, reload), certificate issuing for HTTPS interception, and client contexts for
 * upstreams. Only the classes that build certificates touch BouncyCastle, which is an optional
 * dependency: {@link dev.ferry.proxy.engine.tls.BouncyCastle#require()} runs before any of them
 * is loaded.
 *
 * <p>Null policy: no parameter accepts {@code null} and no method returns {@code null} unless
 * its comment says so.
 */
package dev.ferry.proxy.engine.tls;
