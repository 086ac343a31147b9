package dev.ferry.proxy.engine;

import dev.ferry.proxy.Filter;
import dev.ferry.proxy.Headers;
import dev.ferry.proxy.engine.cache.HttpCache;
import dev.ferry.proxy.engine.filter.LoopChecks;
import dev.ferry.proxy.engine.http1.Framing;
import dev.ferry.proxy.engine.http1.Methods;
import dev.ferry.proxy.engine.http1.RequestHead;
import dev.ferry.proxy.engine.route.LiveEndpoint;
import dev.ferry.proxy.engine.route.LivePool;
import dev.ferry.proxy.engine.route.LiveRoute;
import dev.ferry.proxy.engine.route.RouteTable;
import java.util.List;

/**
 * Which requests, and which proxies, the {@link EventLoop}s serve, judged without serving
 * anything: by a request's head ({@link #plain}), by how the proxy is set up ({@link #servesSome},
 * so that a proxy whose requests the loops could never take gives its connections to the threads
 * from the start), and after the threads served an exchange ({@link #wouldServe}, so that only a
 * connection whose requests are the loops' goes back to its loop). {@link LoopAdmission} applies
 * the same rules to a request it parses, with what only the request itself tells (its route, its
 * filters' verdict, what the cache holds).
 */
final class LoopEligibility {
  /**
   * The largest request body a loop sends itself, when it came whole with its head: a connection
   * buffer's worth. Longer ones, and any still arriving, go to the threads, which stream them.
   */
  static final int MAX_BODY_BYTES = 16 * 1024;

  private LoopEligibility() {}

  /**
   * False when the loops serve no request of {@code server} as it is set up now: no route they
   * could serve (see {@link #servesSome}). Listeners that want more than the completed exchange
   * need no check here: such a proxy runs no loops ({@code RealProxyServer.runsLoops}).
   */
  static boolean mayServe(RealProxyServer server) {
    return server.pipeline().loopServes();
  }

  /**
   * Whether a loop could serve some request through {@code filters} and {@code routes}: in a
   * forward proxy ({@code routes} null) filters a loop may ask ({@link LoopChecks#allOnLoop}),
   * and no cache or the built-in store; in a
   * reverse one proxy-wide filters a loop may ask and a route whose
   * filters are such too, and that caches with the built-in store (its
   * hits are a loop's) or, without a cache, whose pool a loop reaches ({@link #loopable}); a
   * route cached by an application's store is the threads', which ask it.
   */
  static boolean servesSome(List<Filter> filters, RouteTable routes, HttpCache cache) {
    if (routes == null) {
      return LoopChecks.allOnLoop(filters, true) && (cache == null || cache.storeInMemory());
    }
    if (!LoopChecks.allOnLoop(filters, false)) {
      return false;
    }
    for (LiveRoute route : routes.routes()) {
      if (LoopChecks.allOnLoop(route.filters(), false)
          && (cache != null && route.route().cacheEnabled() ? cache.storeInMemory()
              : loopable(route.pool()))) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether a loop would have served, itself, an exchange the threads just served through
   * {@code pipeline} (null if none ran): a {@link #plain} request, in a forward proxy to an
   * absolute {@code http} URL, in a reverse one on a route, through
   * filters a loop may ask (which may have answered it, as the loop would have);
   * where the cache serves it, answered from the store ({@code cacheVerdict} HIT or STALE) or
   * fetched (a MISS, which a loop fetches where it need not wait for another request's fetch of
   * its URL, or REVALIDATED: {@link HttpCache#lookUpOnLoop}), else
   * to an origin or through a pool a loop reaches. Only then does its connection go back to its
   * loop: one whose requests are the threads' anyway (streamed POSTs, a pool over https)
   * would pay a hand-over for each of them.
   */
  static boolean wouldServe(RequestHead head, Pipeline pipeline, LiveRoute route, String cacheVerdict,
      HttpCache cache) {
    if (pipeline == null || !plain(head)) {
      return false;
    }
    if (pipeline.routes() == null) {
      return absoluteHttp(head.target()) && LoopChecks.allOnLoop(pipeline.filters(), true)
          && (cache == null || loopVerdict(cache, cacheVerdict));
    }
    if (route == null || !LoopChecks.allOnLoop(pipeline.filters(), false)
        || !LoopChecks.allOnLoop(route.filters(), false)) {
      return false;
    }
    if (cache != null && route.route().cacheEnabled()) {
      // A fetch goes through the route's pool, which a loop must reach.
      return loopVerdict(cache, cacheVerdict) && (!fetched(cacheVerdict) || loopable(route.pool()));
    }
    // An unsafe method's invalidation, where the store is an application's, is the threads'.
    return loopable(route.pool()) && (cache == null || cache.storeInMemory() || Methods.isSafe(head.method()));
  }

  /**
   * Whether a loop gives the cache's verdict: an answer from the built-in store, or a fetch;
   * never with an application's store, which the threads ask.
   */
  private static boolean loopVerdict(HttpCache cache, String cacheVerdict) {
    return cache.storeInMemory() && ("HIT".equals(cacheVerdict) || "STALE".equals(cacheVerdict)
        || fetched(cacheVerdict));
  }

  /** Whether {@code cacheVerdict} is that of a request the cache sent upstream. */
  private static boolean fetched(String cacheVerdict) {
    return "MISS".equals(cacheVerdict) || "REVALIDATED".equals(cacheVerdict);
  }

  /**
   * Whether a forward proxy's request target is an absolute {@code http} URL (its scheme in any
   * case, RFC 3986 §3.1), the only form a loop forwards.
   */
  static boolean absoluteHttp(String target) {
    return target.regionMatches(true, 0, "http://", 0, 7);
  }

  /**
   * A request a loop may take by its head, from an HTTP/1.1 or an HTTP/1.0 client, with no
   * {@code Transfer-Encoding}, {@code Upgrade} or {@code Expect}: a GET, HEAD or DELETE without a
   * body (none, or a {@code Content-Length} of 0), an OPTIONS without one to a path (not
   * {@code *}, nor an absolute URL, whose path a forward proxy may have to make {@code *}) and
   * without {@code Max-Forwards} (which may make the proxy its final recipient), or a POST, PUT or
   * PATCH whose {@code Content-Length} is at most {@link #MAX_BODY_BYTES} (its body must also have
   * come whole with the head, which {@link LoopAdmission#start} sees).
   */
  static boolean plain(RequestHead head) {
    Headers received = head.headers();
    if (received.contains("Transfer-Encoding") || received.contains("Upgrade") || received.contains("Expect")) {
      return false;
    }
    return switch (head.method()) {
      // An empty one is no body (Java 17's HttpClient sends Content-Length: 0 with every GET).
      case "GET", "HEAD", "DELETE" -> noBody(received);
      case "OPTIONS" -> noBody(received) && head.target().startsWith("/") && !received.contains("Max-Forwards");
      case "POST", "PUT", "PATCH" -> {
        long length = Framing.contentLength(received); // -1: none, so no body (RFC 9112 §6.3)
        yield length >= -1 && length <= MAX_BODY_BYTES;
      }
      default -> false;
    };
  }

  /** No {@code Content-Length}, or one of 0: no body (RFC 9112 §6.3). */
  private static boolean noBody(Headers received) {
    return !received.contains("Content-Length") || Framing.contentLength(received) == 0;
  }

  /**
   * True if every endpoint of {@code pool} is plain {@code http}: a loop reaches it by address,
   * or by a name looked up off the loop ({@link dev.ferry.proxy.engine.upstream.NameLookups}).
   */
  static boolean loopable(LivePool pool) {
    for (LiveEndpoint endpoint : pool.endpoints()) {
      if (!endpoint.endpoint().scheme().equals("http")) {
        return false;
      }
    }
    return true;
  }
}
