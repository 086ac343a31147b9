package dev.ferry.proxy.engine.filter;

/**
 * The {@code Proxy-Authorization} of the CONNECT that opened an intercepted TLS session, set as
 * an attribute on each of the session's exchanges. Browsers authenticate the CONNECT only, as
 * they would to a proxy that just tunnels, so the session's requests carry the CONNECT's
 * credentials implicitly: the authentication filter checks them when a request has none of its
 * own. Nothing is added to the request itself, so they never go on to the origin.
 */
public record TunnelCredentials(String proxyAuthorization) {}
