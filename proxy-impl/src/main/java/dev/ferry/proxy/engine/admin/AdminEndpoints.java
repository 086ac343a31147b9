package dev.ferry.proxy.engine.admin;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.Headers;
import dev.ferry.proxy.ProxyCache;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.engine.cache.CacheAdmin;
import java.util.Optional;
import java.util.Set;

/**
 * The built-in admin endpoints, shared by the admin listener and (for loopback clients of a
 * forward proxy) the proxy port: {@code /_stats} (JSON) and {@code /_dashboard} (HTML that polls
 * {@code /_stats}). Answers are never cached and never forwarded.
 */
public final class AdminEndpoints {
  private static final Set<String> PATHS = Set.of("/_stats", "/_dashboard");

  private final ProxyServer server;
  private final CacheAdmin cacheAdmin;

  /**
   * @param cacheAdmin answers {@code /_cache/...}; null without a cache
   */
  public AdminEndpoints(ProxyServer server, CacheAdmin cacheAdmin) {
    this.server = server;
    this.cacheAdmin = cacheAdmin;
  }

  /** True if {@code path} is an admin endpoint (answered here, never proxied). */
  public static boolean serves(String path) {
    return servesOnProxyPort(path) || path.startsWith("/_cache/");
  }

  /**
   * True if {@code path} is answered on a forward proxy's own port too (stats and dashboard,
   * read-only): the cache's endpoints, which purge, are the admin listener's alone, since on the
   * proxy port they would be answered before its authentication and access control.
   */
  public static boolean servesOnProxyPort(String path) {
    return PATHS.contains(path);
  }

  /** The answer for {@code request}, or empty if the path is not an admin endpoint. */
  public Optional<Response> handle(Request request) {
    String path = request.path();
    if (path.startsWith("/_cache/")) {
      return Optional.of(cacheAdmin != null ? cacheAdmin.handleAdmin(request)
          : Response.text(404, "Not found: this proxy has no cache\n"));
    }
    if (!PATHS.contains(path)) {
      return Optional.empty();
    }
    if (!request.method().equals("GET") && !request.method().equals("HEAD")) {
      return Optional.of(Response.text(405, "Method not allowed: use GET\n").withHeader("Allow", "GET, HEAD"));
    }
    if (path.equals("/_stats")) {
      String body = StatsJson.render(server.stats(), server.cache().map(ProxyCache::stats));
      return Optional.of(json(body));
    }
    return Optional.of(Response.builder().status(200)
        .headers(Headers.of("Content-Type", "text/html; charset=utf-8", "Cache-Control", "no-store"))
        .body(Body.of(Dashboard.page())).build());
  }

  private static Response json(String body) {
    return Response.builder().status(200)
        .headers(Headers.of("Content-Type", "application/json", "Cache-Control", "no-store"))
        .body(Body.of(body + "\n")).build();
  }
}
