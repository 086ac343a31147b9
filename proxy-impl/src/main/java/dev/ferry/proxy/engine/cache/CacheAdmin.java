package dev.ferry.proxy.engine.cache;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.CacheStats;
import dev.ferry.proxy.ProxyCache;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.engine.filter.AddressBlock;
import dev.ferry.proxy.engine.http1.LoggedUrls;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cache operations over HTTP: the {@code PURGE} method (Varnish's and Squid's convention) on the
 * proxy's own listener, and the admin endpoints {@code POST /_cache/purge?url=...} (or
 * {@code ?prefix=...}) and {@code GET /_cache/stats}. {@code PURGE} is answered only to the
 * clients {@code CacheSpec.purgeFrom} names (loopback by default): a purge from anyone is a cheap
 * way to send every request to the origin.
 */
public final class CacheAdmin {
  private static final Logger log = LoggerFactory.getLogger(CacheAdmin.class);

  private final ProxyCache cache;
  private final List<AddressBlock> purgeClients;

  /** {@code PURGE} allowed from the clients in {@code purgeClients}; none, the method is off. */
  public CacheAdmin(ProxyCache cache, List<String> purgeClients) {
    this.cache = cache;
    this.purgeClients = purgeClients.stream().map(AddressBlock::parse).toList();
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
    if (address == null || purgeClients.stream().noneMatch(block -> block.contains(address))) {
      log.info("cache_purge_denied url={} client={}", LoggedUrls.logValue(request.url()), client);
      return Response.text(403, purgeClients.isEmpty() ? "The PURGE method is off on this proxy\n"
          : "Purge not allowed from this client\n");
    }
    return purgeUrl(List.of(request.url()), " client=" + client);
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
      List<String> urls = parameter(request, "url");
      if (!urls.isEmpty()) {
        return urls.stream().allMatch(CacheKeys::isAbsoluteHttp) ? purgeUrl(urls, "")
            : Response.text(400, "url= takes an absolute http or https URL; for a path under every "
                + "origin give prefix=</path prefix>\n");
      }
      List<String> prefixes = parameter(request, "prefix");
      if (!prefixes.isEmpty() && prefixes.stream().allMatch(prefix -> prefix.startsWith("/"))) {
        // A path prefix, as a reverse proxy's users think of URLs: under every origin.
        Set<String> spellings = prefixes.stream().flatMap(start -> CacheKeys.spellings(start, true).stream())
            .collect(Collectors.toSet());
        cache.purgeIf(candidate -> {
          String stored = pathOf(candidate);
          return spellings.stream().anyMatch(stored::startsWith);
        });
        // The decoded reading, as for url=: an encoded query is one there, which redaction finds.
        log.info("cache_purge prefix={}", LoggedUrls.logValue(prefixes.get(prefixes.size() - 1)));
        return Response.text(200, "Purged *" + prefixes.get(0) + "*\n");
      }
      if (!prefixes.isEmpty() && prefixes.stream().allMatch(prefix -> prefix.contains("://"))) {
        Set<String> starts = new HashSet<>();
        for (String prefix : prefixes) {
          String start = CacheKeys.url(prefix);
          int slash = start.indexOf('/', start.indexOf("://") + 3);
          if (slash < 0) {
            starts.add(start);
          } else {
            CacheKeys.spellings(start.substring(slash), true).forEach(spelling -> starts.add(start.substring(0, slash) + spelling));
          }
        }
        cache.purgeIf(candidate -> starts.stream().anyMatch(candidate::startsWith));
        String shown = CacheKeys.url(prefixes.get(0));
        log.info("cache_purge prefix={}", LoggedUrls.logValue(CacheKeys.url(prefixes.get(prefixes.size() - 1))));
        return Response.text(200, "Purged " + shown + "*\n");
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

  /** Purges the entries of every spelling in {@code urls}: 200 if any was cached, else 404. */
  private Response purgeUrl(List<String> urls, String from) {
    boolean removed = false;
    for (String url : urls) {
      removed |= cache.purge(url);
    }
    // The last reading is the decoded one when there are two: a query written encoded
    // (k%3Ftoken%3D...) is a query there, which redaction finds (probe c28: the token was logged).
    log.info("cache_purge url={} removed={}{}", LoggedUrls.logValue(urls.get(urls.size() - 1)), removed, from);
    return removed ? Response.text(200, "Purged\n") : Response.text(404, "Not in cache\n");
  }

  private static Response notAllowed(String allow) {
    return Response.text(405, "Method not allowed\n").withHeader("Allow", allow);
  }

  /**
   * The value of the query parameter {@code name} in each way it may be meant: as written (a URL
   * pasted from a log or a browser, {@code url=http://h/My%20Doc.pdf}), and form-decoded once (a
   * URL a tool encoded as a parameter, {@code url=http%3A%2F%2Fh%2FMy%2520Doc.pdf}), when that
   * differs and is still a URL. Decoded alone, a URL written as it is lost its escapes and named
   * no entry, answered "Not in cache" or "Purged" while the entry stayed (probe k26). Empty when
   * the parameter is absent or no reading is a URL.
   */
  private static List<String> parameter(Request request, String name) {
    for (String pair : request.query().orElse("").split("&")) {
      int equals = pair.indexOf('=');
      if (equals > 0 && pair.substring(0, equals).equals(name)) {
        String raw = pair.substring(equals + 1);
        List<String> readings = new ArrayList<>(2);
        if (isUrl(raw)) {
          readings.add(raw);
        }
        try {
          String decoded = URLDecoder.decode(raw, StandardCharsets.UTF_8);
          if (!decoded.equals(raw) && isUrl(decoded)) {
            readings.add(decoded);
          }
        } catch (IllegalArgumentException e) {
          // A malformed escape: only the value as written can be meant.
        }
        return readings;
      }
    }
    return List.of();
  }

  /** Whether {@code value} could name cache keys: a path or an absolute URL, nothing a target cannot hold. */
  private static boolean isUrl(String value) {
    return (value.startsWith("/") || value.contains("://"))
        && value.chars().allMatch(c -> c > 0x20 && c < 0x7f);
  }

  static String statsJson(CacheStats stats) {
    return String.format(Locale.ROOT, "{\"hits\":%d,\"misses\":%d,\"hit_rate\":%.4f,\"revalidations\":%d,"
        + "\"stale_served\":%d,\"entries\":%d,\"bytes\":%d,\"evictions\":%d,\"direct_bytes\":%d,"
        + "\"file_bytes\":%d,\"body_files\":%d}\n", stats.hits(), stats.misses(), stats.hitRate(),
        stats.revalidations(), stats.staleServed(), stats.entries(), stats.bytes(), stats.evictions(),
        stats.directBytes(), stats.fileBytes(), stats.bodyFiles());
  }
}
