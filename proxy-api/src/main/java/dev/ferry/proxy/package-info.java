/**
 * Ferry's public API: an embeddable HTTP proxy for the JVM.
 *
 * <p>Start with {@link dev.ferry.proxy.ProxyServer#builder()}. Everything a user compiles against
 * lives in this package; the engine ({@code dev.ferry:proxy-impl}) is found at run time through
 * {@link java.util.ServiceLoader}.
 *
 * <p>Null policy: no parameter in this package accepts {@code null} and no method returns
 * {@code null}. A value that may be absent is returned as an {@link java.util.Optional}.
 */
package dev.ferry.proxy;
