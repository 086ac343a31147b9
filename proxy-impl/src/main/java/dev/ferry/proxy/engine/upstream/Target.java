package dev.ferry.proxy.engine.upstream;

import dev.ferry.proxy.Upstream;

/**
 * Where a reverse proxy sends one attempt: an endpoint of a pool, whether the client's Host goes
 * with it, the upstream timeout of the route, the path prefix the route took off the request
 * ({@code /v1}, or empty), and whether a {@code Location} naming the endpoint is rewritten (see
 * {@link Upstream#keepLocation()}).
 */
public record Target(Upstream.Endpoint endpoint, boolean preserveHost, int timeoutMillis,
    String strippedPrefix, boolean rewriteLocation) {}
