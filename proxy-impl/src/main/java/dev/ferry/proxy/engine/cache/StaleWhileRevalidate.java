package dev.ferry.proxy.engine.cache;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.CacheEntry;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.engine.http1.LogValues;
import dev.ferry.proxy.engine.http1.LoggedUrls;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * RFC 5861 §3: within {@code stale-while-revalidate}, a stale entry answers at once while a
 * background thread revalidates it. Off until {@link #start} (the proxy has started), and
 * stopped by {@link #close} so no refresh outlives the proxy.
 */
final class StaleWhileRevalidate {
  private static final Logger log = LoggerFactory.getLogger(StaleWhileRevalidate.class);

  private final Entries entries;
  private final Clock clock;
  private volatile BackgroundRefresh refresher;
  private volatile HttpCache.Refresher upstream;

  StaleWhileRevalidate(Entries entries, Clock clock) {
    this.entries = entries;
    this.clock = clock;
  }

  void start(ThreadFactory threads, HttpCache.Refresher upstream) {
    this.upstream = upstream;
    this.refresher = new BackgroundRefresh(threads);
  }

  void close() {
    BackgroundRefresh running = refresher;
    if (running != null) {
      running.close(Duration.ofSeconds(2));
    }
  }

  /**
   * Starts a background refresh and returns true when {@code stored} may be served stale now;
   * false when the window does not apply and the request must revalidate in the foreground.
   */
  boolean refreshInBackground(Request request, String partition, String requestedAuthority,
      CacheEntry stored, CacheControl asked) {
    Runnable refresh = refreshFor(request, partition, requestedAuthority, stored, asked);
    if (refresh == null) {
      return false;
    }
    refresh.run();
    return true;
  }

  /**
   * What starts the background refresh of {@code stored} when it may be served stale now; null
   * when the window does not apply. For an event loop, which starts it once the stale answer is
   * the one sent (a rate limit the loop asks after the lookup may refuse the request yet).
   */
  Runnable refreshFor(Request request, String partition, String requestedAuthority,
      CacheEntry stored, CacheControl asked) {
    BackgroundRefresh running = refresher;
    if (running == null || Lookup.asksNoCache(asked, request.headers()) || asked.has("max-age")
        || asked.has("min-fresh")) {
      return null;
    }
    StoredFacts facts = entries.facts(stored);
    long window = facts.response.seconds("stale-while-revalidate");
    if (facts.response.forbidsStale() || window < 0 || facts.stalenessSeconds(clock.instant()) > window) {
      return null;
    }
    return () -> {
      Request refresh = Conditionals.conditional(request.withBody(Body.empty()), stored);
      String key = Entries.key(request);
      if (!running.start(partition + " " + key, () -> refresh(request, partition, refresh, requestedAuthority, stored))) {
        log.debug("cache_refresh_not_started key={} reason=\"running for this URL, or {} running\"",
            LoggedUrls.logValue(key), BackgroundRefresh.MAX_RUNNING);
      }
    };
  }

  private void refresh(Request request, String partition, Request conditional,
      String requestedAuthority, CacheEntry stored) {
    if (entries.lookup(request, partition) != stored) {
      // Another refresh replaced the entry after this request saw it stale: nothing to do.
      return;
    }
    try {
      Instant requested = clock.instant();
      Response response = upstream.refresh(conditional, requestedAuthority);
      if (response.status() == 304) {
        // A 304 for another representation removes the entry: the next request fetches it.
        entries.applyNotModified(request, stored, response, requested);
        return;
      }
      Response storing = entries.maybeStore(request.withHeaders(conditional.headers()), partition,
          response, requested, StoreOutcome.NONE);
      try (InputStream in = storing.body().stream()) {
        in.transferTo(OutputStream.nullOutputStream());
      }
    } catch (IOException | RuntimeException e) {
      // A failed refresh leaves the stale entry; the next request revalidates in the foreground.
      log.debug("cache_refresh_failed url={} error={}", LoggedUrls.logValue(Entries.key(request)),
          LogValues.quoted(e.toString()));
    }
  }
}
