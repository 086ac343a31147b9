package dev.ferry.proxy.engine.cache;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.CacheSpec;
import dev.ferry.proxy.CacheStats;
import dev.ferry.proxy.Headers;
import dev.ferry.proxy.ProxyCache;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.engine.filter.RealChain;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The shared cache stage (RFC 9111), between the filters and the forwarder.
 *
 * <p>For GET and HEAD it answers from a stored response while that is fresh enough for the
 * request's directives, revalidates a stale one with its validators, and stores what the rules
 * allow as the body streams by. Other methods pass through and, when they succeed, invalidate
 * the target (§4.4).
 */
public final class HttpCache implements ProxyCache {
  private static final Set<String> UNSAFE = Set.of("POST", "PUT", "DELETE", "PATCH");
  private static final Duration COALESCE_WAIT = Duration.ofSeconds(30);

  private final CacheStore store;
  private final long maxEntryBytes;
  private final String statusHeader;
  private final Clock clock;
  private final boolean reverse;
  private final String targetedField;
  private final boolean hideTargetedField;
  private final boolean storeSetCookie;
  private volatile BackgroundRefresh refresher;
  private volatile RealChain.Terminal backgroundUpstream;
  private final LongAdder hits = new LongAdder();
  private final LongAdder misses = new LongAdder();
  private final LongAdder revalidations = new LongAdder();
  private final LongAdder staleServed = new LongAdder();
  private final ConcurrentHashMap<String, CompletableFuture<Void>> inflight = new ConcurrentHashMap<>();

  /** A cache for a reverse proxy when {@code reverse}, else for a forward proxy. */
  public HttpCache(CacheSpec spec, boolean reverse) {
    this.reverse = reverse;
    this.targetedField = spec.targetedField();
    this.hideTargetedField = spec.hidesTargetedField();
    this.storeSetCookie = spec.storesSetCookie();
    this.store = new CacheStore(spec.maxSizeBytes());
    this.maxEntryBytes = spec.maxEntryBytes();
    this.statusHeader = spec.statusHeader();
    this.clock = spec.clock();
  }

  /**
   * Handles one request, calling {@code upstream} when it must; reports its verdict (HIT,
   * MISS, REVALIDATED, STALE or BYPASS) to {@code verdict}.
   */
  public Response handle(Request request, RealChain.Terminal upstream, Consumer<String> verdict)
      throws IOException {
    String method = request.method();
    if (!method.equals("GET") && !method.equals("HEAD")) {
      Response response = upstream.handle(request);
      if (UNSAFE.contains(method) && response.status() >= 200 && response.status() < 400) {
        invalidate(request, response);
      }
      return mark(response, "BYPASS", verdict);
    }
    CacheControl requestCc = CacheControl.of(request.headers());
    StoredResponse stored = lookup(request);
    Response fromStore = answerFromStore(request, stored, requestCc, verdict);
    if (fromStore != null) {
      return fromStore;
    }
    if (stored != null) {
      Response stale = staleWhileRevalidate(request, stored, requestCc, verdict);
      if (stale != null) {
        return stale;
      }
    }
    if (requestCc.has("only-if-cached")) {
      misses.increment();
      return mark(Response.text(504, "Not in cache: only-if-cached\n"), "MISS", verdict);
    }
    if (stored == null && request.method().equals("GET")) {
      return coalescedMiss(request, requestCc, upstream, verdict);
    }
    try {
      Response response = stored != null && StoragePolicy.hasValidators(stored.headers())
          ? revalidate(request, stored, upstream, verdict)
          : fetch(request, upstream, verdict, () -> { });
      if (response.status() >= 500 && stored != null && staleIfError(stored, requestCc)) {
        closeQuietly(response.body());
        return serveStale(request, stored, verdict);
      }
      return response;
    } catch (IOException e) {
      if (stored != null && staleIfError(stored, requestCc)) {
        return serveStale(request, stored, verdict);
      }
      throw e;
    }
  }

  /** A stored response that may answer as it is, or null. */
  private Response answerFromStore(Request request, StoredResponse stored, CacheControl asked,
      Consumer<String> verdict) {
    if (stored == null) {
      return null;
    }
    Instant now = clock.instant();
    Lookup lookup = new Lookup(stored, policy(stored.headers()), asked, now, request.headers());
    if (!lookup.servable) {
      return null;
    }
    hits.increment();
    if (!lookup.fresh) {
      staleServed.increment();
    }
    return mark(serve(stored, request, now), lookup.fresh ? "HIT" : "STALE", verdict);
  }

  /**
   * Concurrent misses for one URL make one upstream request: the first goes, the others wait
   * (up to {@link #COALESCE_WAIT}) until its response is stored or turns out uncacheable, then
   * look again, and fetch for themselves only if there is still nothing to serve.
   */
  private Response coalescedMiss(Request request, CacheControl asked, RealChain.Terminal upstream,
      Consumer<String> verdict) throws IOException {
    String key = key(request);
    CompletableFuture<Void> mine = new CompletableFuture<>();
    CompletableFuture<Void> leader = inflight.putIfAbsent(key, mine);
    if (leader != null) {
      awaitQuietly(leader);
      Response coalesced = answerFromStore(request, lookup(request), asked, verdict);
      if (coalesced != null) {
        return coalesced;
      }
      return fetch(request, upstream, verdict, () -> { });
    }
    Runnable release = () -> {
      inflight.remove(key, mine);
      mine.complete(null);
    };
    try {
      return fetch(request, upstream, verdict, release);
    } catch (IOException | RuntimeException e) {
      release.run();
      throw e;
    }
  }

  private Response fetch(Request request, RealChain.Terminal upstream, Consumer<String> verdict,
      Runnable finished) throws IOException {
    misses.increment();
    Instant requested = clock.instant();
    Response response = upstream.handle(request);
    return mark(maybeStore(request, response, requested, finished), "MISS", verdict);
  }

  /** RFC 5861 §4: stale-if-error, from the response or the request, within its window. */
  private boolean staleIfError(StoredResponse stored, CacheControl asked) {
    Headers policy = policy(stored.headers());
    CacheControl response = CacheControl.of(policy);
    if (response.has("must-revalidate") || response.has("proxy-revalidate") || response.has("no-cache")) {
      return false;
    }
    long window = Math.max(response.seconds("stale-if-error"), asked.seconds("stale-if-error"));
    if (window < 0) {
      return false;
    }
    long staleness = Freshness.currentAgeSeconds(stored, clock.instant())
        - Freshness.lifetimeSeconds(stored.status(), policy);
    return staleness <= window;
  }

  private Response serveStale(Request request, StoredResponse stored, Consumer<String> verdict) {
    hits.increment();
    staleServed.increment();
    return mark(serve(stored, request, clock.instant()), "STALE", verdict);
  }

  private static void awaitQuietly(CompletableFuture<Void> leader) {
    try {
      leader.get(COALESCE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      // the waiter fetches for itself
    }
  }

  private Response revalidate(Request request, StoredResponse stored, RealChain.Terminal upstream,
      Consumer<String> verdict) throws IOException {
    Instant requested = clock.instant();
    Response response = upstream.handle(conditional(request, stored));
    if (response.status() != 304) {
      misses.increment();
      if (response.status() >= 500) {
        return mark(response, "MISS", verdict);
      }
      return mark(maybeStore(request, response, requested, () -> { }), "MISS", verdict);
    }
    StoredResponse updated = applyNotModified(request, stored, response, requested);
    return mark(serve(updated, request, clock.instant()), "REVALIDATED", verdict);
  }

  /** The request with the client's validators replaced by the stored response's (§4.3.1). */
  private static Request conditional(Request request, StoredResponse stored) {
    Headers.Builder conditional = request.headers().toBuilder()
        .remove("If-None-Match").remove("If-Modified-Since").remove("If-Match")
        .remove("If-Unmodified-Since").remove("If-Range").remove("Range");
    stored.headers().first("ETag").ifPresent(etag -> conditional.set("If-None-Match", etag));
    stored.headers().first("Last-Modified").ifPresent(date -> conditional.set("If-Modified-Since", date));
    return request.withHeaders(conditional.build());
  }

  /** §4.3.4: a 304 freshens the stored response with its fields. */
  private StoredResponse applyNotModified(Request request, StoredResponse stored, Response notModified,
      Instant requested) {
    closeQuietly(notModified.body());
    StoredResponse updated = stored.withHeaders(
        Conditionals.updateHeaders(stored.headers(), notModified.headers()), requested, clock.instant());
    if (StoragePolicy.isStorable(request, updated.status(), policy(updated.headers()), storeSetCookie)) {
      store.put(key(request), updated);
    } else {
      store.remove(key(request));
    }
    revalidations.increment();
    return updated;
  }

  /**
   * RFC 5861 §3: within stale-while-revalidate, serve the stale response now and refresh it in
   * the background. Returns the stale answer, or null when the window does not apply.
   */
  private Response staleWhileRevalidate(Request request, StoredResponse stored, CacheControl asked,
      Consumer<String> verdict) {
    if (refresher == null || asked.has("no-cache") || asked.has("max-age") || asked.has("min-fresh")) {
      return null;
    }
    Headers policy = policy(stored.headers());
    CacheControl response = CacheControl.of(policy);
    if (response.has("must-revalidate") || response.has("proxy-revalidate") || response.has("no-cache")
        || response.seconds("stale-while-revalidate") < 0) {
      return null;
    }
    long staleness = Freshness.currentAgeSeconds(stored, clock.instant())
        - Freshness.lifetimeSeconds(stored.status(), policy);
    if (staleness > response.seconds("stale-while-revalidate")) {
      return null;
    }
    Request refresh = conditional(request.withBody(Body.empty()), stored);
    refresher.start(key(request), () -> refreshInBackground(request, refresh, stored));
    return serveStale(request, stored, verdict);
  }

  private void refreshInBackground(Request request, Request conditional, StoredResponse stored) {
    if (lookup(request) != stored) {
      // Another refresh replaced the entry after this request saw it stale: nothing to do.
      return;
    }
    try {
      Instant requested = clock.instant();
      Response response = backgroundUpstream.handle(conditional);
      if (response.status() == 304) {
        applyNotModified(request, stored, response, requested);
        return;
      }
      Response storing = maybeStore(request.withHeaders(conditional.headers()), response, requested, () -> { });
      try (InputStream in = storing.body().stream()) {
        in.transferTo(OutputStream.nullOutputStream());
      }
    } catch (IOException | RuntimeException e) {
      // A failed refresh leaves the stale entry; the next request revalidates in the foreground.
    }
  }

  /**
   * Enables background refreshes (stale-while-revalidate) on threads from {@code threads},
   * fetching through {@code upstream}. Called once the proxy has started.
   */
  public void startBackground(ThreadFactory threads, RealChain.Terminal upstream) {
    this.backgroundUpstream = upstream;
    this.refresher = new BackgroundRefresh(threads);
  }

  /** Stops background refreshes; called when the proxy stops. */
  public void close() {
    if (refresher != null) {
      refresher.close(Duration.ofSeconds(2));
    }
  }

  /** Stores the response as it streams, if the rules allow; returns what to send on. */
  private Response maybeStore(Request request, Response response, Instant requested, Runnable finished) {
    if (!request.method().equals("GET")
        || !StoragePolicy.isStorable(request, response.status(), policy(response.headers()), storeSetCookie)) {
      finished.run();
      return response;
    }
    long length = response.body().contentLength();
    if (length > maxEntryBytes) {
      finished.run();
      return response;
    }
    Instant responded = clock.instant();
    List<String> varyNames = StoragePolicy.varyNames(response.headers());
    List<String> varyValues = StoragePolicy.varyValues(varyNames, request.headers());
    Headers headers = response.headers().without(statusHeader);
    String url = key(request);
    return response.withBody(new StoringBody(response.body(), maxEntryBytes, body ->
        store.put(url, new StoredResponse(response.status(), response.reason(), headers, body,
            requested, responded, varyNames, varyValues)), finished));
  }

  private Response serve(StoredResponse stored, Request request, Instant now) {
    Headers headers = stored.headers().with("Age", Long.toString(Freshness.currentAgeSeconds(stored, now)));
    if (Conditionals.notModified(request.headers(), stored.headers())) {
      return Response.builder().status(304).headers(Conditionals.notModifiedHeaders(headers)).build();
    }
    if (request.method().equals("GET")) {
      Optional<Response> partial = RangeResponses.answer(request.headers(), stored, headers);
      if (partial.isPresent()) {
        return partial.get();
      }
    }
    Response.Builder response = Response.builder().status(stored.status()).reason(stored.reason())
        .headers(headers);
    return response.body(request.method().equals("HEAD") ? Body.empty() : new StoredBody(stored.body())).build();
  }

  private StoredResponse lookup(Request request) {
    for (StoredResponse candidate : store.variants(key(request))) {
      if (StoragePolicy.varyValues(candidate.varyNames(), request.headers()).equals(candidate.varyValues())) {
        return candidate;
      }
    }
    return null;
  }

  /** RFC 9111 §4.4: invalidate the target and same-origin Location / Content-Location. */
  private void invalidate(Request request, Response response) {
    store.remove(key(request));
    String origin = request.scheme() + "://" + request.authority();
    for (String field : new String[] {"Location", "Content-Location"}) {
      response.headers().first(field).ifPresent(location -> {
        if (location.startsWith("/")) {
          store.remove(origin + location);
        } else if (location.startsWith(origin + "/")) {
          store.remove(location);
        }
      });
    }
  }

  private static String key(Request request) {
    return request.url();
  }

  private Response mark(Response response, String status, Consumer<String> verdict) {
    verdict.accept(status);
    Response marked = response.withHeader(statusHeader, status);
    return reverse && hideTargetedField ? marked.withoutHeader(targetedField) : marked;
  }

  /**
   * The fields that govern caching. In reverse mode a targeted field such as CDN-Cache-Control
   * (RFC 9213 §2.1) replaces Cache-Control and Expires for Ferry's own decisions; forward
   * proxies are not the CDN it targets and ignore it.
   */
  private Headers policy(Headers headers) {
    if (!reverse || !headers.contains(targetedField)) {
      return headers;
    }
    return headers.without("Cache-Control").without("Expires")
        .plus("Cache-Control", String.join(", ", headers.all(targetedField)));
  }

  private static void closeQuietly(Body body) {
    try {
      body.stream().close();
    } catch (IOException | IllegalStateException ignored) {
      // the 304 has no body to read
    }
  }

  @Override
  public CacheStats stats() {
    return CacheStats.of(hits.sum(), misses.sum(), revalidations.sum(), staleServed.sum(),
        store.entries(), store.bytes(), store.evictions());
  }

  @Override
  public void purge(String url) {
    store.remove(url);
  }

  @Override
  public void purgeIf(Predicate<String> url) {
    store.removeIf(url);
  }

  @Override
  public void purgeAll() {
    store.clear();
  }
}
