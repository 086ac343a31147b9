package dev.ferry.proxy.engine.upstream;

import dev.ferry.proxy.Upstream;

/**
 * Where a reverse proxy sends one attempt: an endpoint of a pool, whether the client's Host goes
 * with it, and the upstream timeout of the route.
 */
public record Target(Upstream.Endpoint endpoint, boolean preserveHost, int timeoutMillis) {}
