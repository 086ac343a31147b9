package dev.ferry.proxy.engine.cache;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.CacheStats;
import dev.ferry.proxy.ProxyCache;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.engine.http1.LoggedUrls;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cache operations over HTTP: the {@code PURGE} method (Varnish's and Squid's convention) on the
 * proxy's own listener, and the admin endpoints {@code POST /_cache/purge?url=...} (or
 * {@code ?prefix=...}) and {@code GET /_cache/stats}. Purging is refused to clients that are not
 * on loopback unless the allow predicate admits them: a purge from anyone is a cheap way to
 * send every request to the origin.
 */
public final class CacheAdmin {
  private static final Logger log = LoggerFactory.getLogger(CacheAdmin.class);

  private final ProxyCache cache;
  private final Predicate<InetAddress> allowPurge;

  /** Purges allowed from loopback clients only. */
  public CacheAdmin(ProxyCache cache) {
    this(cache, InetAddress::isLoopbackAddress);
  }

  /** Purges allowed from the clients {@code allowPurge} accepts (loopback only unless it says so). */
  public CacheAdmin(ProxyCache cache, Predicate<InetAddress> allowPurge) {
    this.cache = cache;
    this.allowPurge = allowPurge;
  }

  /** True for a request that {@link #purge} answers. */
  public static boolean isPurge(Request request) {
    return request.method().equals("PURGE");
  }

  /**
   * Answers a {@code PURGE} of the request's URL: 200 when something was stored for it (every
   * variant is removed), 404 when nothing was, 403 for a client not allowed to purge.
   */
  public Response purge(Request request, InetSocketAddress client) {
    InetAddress address = client.getAddress();
    if (address == null || !(address.isLoopbackAddress() || allowPurge.test(address))) {
      log.info("cache_purge_denied url={} client={}", LoggedUrls.logValue(request.url()), client);
      return Response.text(403, "Purge not allowed from this client\n");
    }
    return purgeUrl(request.url());
  }

  /**
   * Answers the admin endpoints under {@code /_cache/}: {@code POST /_cache/purge?url=<absolute
   * URL>} (200 or 404 as for PURGE), {@code POST /_cache/purge?prefix=<URL prefix>} or
   * {@code ?prefix=</path prefix>} under every origin (200; anything else, which would match
   * nothing, 400), {@code GET /_cache/stats} (JSON). Access to the admin listener is the
   * caller's concern.
   */
  public Response handleAdmin(Request request) {
    String path = request.path();
    if (path.equals("/_cache/stats")) {
      if (!request.method().equals("GET") && !request.method().equals("HEAD")) {
        return notAllowed("GET, HEAD");
      }
      return Response.builder().status(200).header("Content-Type", "application/json")
          .header("Cache-Control", "no-store").body(Body.of(statsJson(cache.stats()))).build();
    }
    if (path.equals("/_cache/purge")) {
      // POST only: a GET that deletes would run for every prefetcher and crawler that sees the link.
      if (!request.method().equals("POST")) {
        return notAllowed("POST");
      }
      Optional<String> url = parameter(request, "url");
      if (url.isPresent()) {
        return purgeUrl(url.get());
      }
      Optional<String> prefix = parameter(request, "prefix");
      if (prefix.isPresent() && prefix.get().startsWith("/")) {
        // A path prefix, as a reverse proxy's users think of URLs: under every origin.
        String start = prefix.get();
        Set<String> spellings = CacheKeys.spellings(start, true);
        cache.purgeIf(candidate -> {
          String stored = pathOf(candidate);
          return spellings.stream().anyMatch(stored::startsWith);
        });
        log.info("cache_purge prefix={}", LoggedUrls.logValue(start));
        return Response.text(200, "Purged *" + start + "*\n");
      }
      if (prefix.isPresent() && prefix.get().contains("://")) {
        String start = CacheKeys.url(prefix.get());
        int slash = start.indexOf('/', start.indexOf("://") + 3);
        Set<String> starts = slash < 0 ? Set.of(start) : CacheKeys.spellings(start.substring(slash), true).stream()
            .map(spelling -> start.substring(0, slash) + spelling).collect(Collectors.toSet());
        cache.purgeIf(candidate -> starts.stream().anyMatch(candidate::startsWith));
        log.info("cache_purge prefix={}", LoggedUrls.logValue(start));
        return Response.text(200, "Purged " + start + "*\n");
      }
      // A prefix that is neither would match no key: it is refused rather than "purged".
      return Response.text(400, "Give url=<absolute URL>, or prefix=<absolute URL prefix> or prefix=</path prefix>\n");
    }
    return Response.text(404, "No such cache endpoint\n");
  }

  /** The path and query of a stored absolute URL: what follows its {@code scheme://authority}. */
  private static String pathOf(String url) {
    int authority = url.indexOf("://") + 3;
    int path = url.indexOf('/', authority);
    return path < 0 ? "" : url.substring(path);
  }

  private Response purgeUrl(String url) {
    boolean removed = cache.purge(url);
    log.info("cache_purge url={} removed={}", LoggedUrls.logValue(url), removed);
    return removed ? Response.text(200, "Purged\n") : Response.text(404, "Not in cache\n");
  }

  private static Response notAllowed(String allow) {
    return Response.text(405, "Method not allowed\n").withHeader("Allow", allow);
  }

  private static Optional<String> parameter(Request request, String name) {
    for (String pair : request.query().orElse("").split("&")) {
      int equals = pair.indexOf('=');
      if (equals > 0 && pair.substring(0, equals).equals(name)) {
        try {
          return Optional.of(URLDecoder.decode(pair.substring(equals + 1), StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
          return Optional.empty();
        }
      }
    }
    return Optional.empty();
  }

  static String statsJson(CacheStats stats) {
    return String.format(Locale.ROOT, "{\"hits\":%d,\"misses\":%d,\"hit_rate\":%.4f,\"revalidations\":%d,"
        + "\"stale_served\":%d,\"entries\":%d,\"bytes\":%d,\"evictions\":%d}\n", stats.hits(), stats.misses(),
        stats.hitRate(), stats.revalidations(), stats.staleServed(), stats.entries(), stats.bytes(), stats.evictions());
  }
}
