package dev.ferry.proxy.engine.upstream;

import dev.ferry.proxy.Upstream;

/**
 * Where a reverse proxy sends one attempt: an endpoint of a pool and the key of its pooled
 * connections, whether the client's Host goes with it, the upstream timeout of the route, the
 * path prefix the route took off the request ({@code /v1}, or empty), whether a {@code Location} naming the endpoint is rewritten (see
 * {@link Upstream#keepLocation()}), and whether the wait for the answer looks for a client that
 * left where no {@link ClientWatch} does: the pool is crowded, and a departed client's request
 * would hold one of its limited slots until the upstream answers (probe g28: a slot of
 * {@code maxRequests(1)} held for the whole of a slow answer, the next client refused 503).
 */
public record Target(Upstream.Endpoint endpoint, UpstreamKey key, boolean preserveHost,
    int timeoutMillis, String strippedPrefix, boolean rewriteLocation, boolean watchClient) {}
