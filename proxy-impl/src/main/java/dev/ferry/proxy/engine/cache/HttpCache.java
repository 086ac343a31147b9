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
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
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

  private final CacheStore store;
  private final long maxEntryBytes;
  private final String statusHeader;
  private final Clock clock;
  private final LongAdder hits = new LongAdder();
  private final LongAdder misses = new LongAdder();
  private final LongAdder revalidations = new LongAdder();
  private final LongAdder staleServed = new LongAdder();

  public HttpCache(CacheSpec spec) {
    this.store = new CacheStore((long) spec.maxSizeMb() << 20);
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
    Instant now = clock.instant();
    StoredResponse stored = lookup(request);
    if (stored != null) {
      Lookup lookup = new Lookup(stored, requestCc, now, request.headers());
      if (lookup.servable) {
        hits.increment();
        if (!lookup.fresh) {
          staleServed.increment();
        }
        return mark(serve(stored, request, now), lookup.fresh ? "HIT" : "STALE", verdict);
      }
      if (!requestCc.has("only-if-cached") && hasValidators(stored)) {
        return revalidate(request, stored, upstream, verdict);
      }
    }
    if (requestCc.has("only-if-cached")) {
      misses.increment();
      return mark(Response.text(504, "Not in cache: only-if-cached\n"), "MISS", verdict);
    }
    misses.increment();
    Instant requested = clock.instant();
    Response response = upstream.handle(request);
    return mark(maybeStore(request, response, requested), "MISS", verdict);
  }

  private Response revalidate(Request request, StoredResponse stored, RealChain.Terminal upstream,
      Consumer<String> verdict) throws IOException {
    Headers.Builder conditional = request.headers().toBuilder()
        .remove("If-None-Match").remove("If-Modified-Since").remove("If-Match")
        .remove("If-Unmodified-Since").remove("If-Range");
    stored.headers().first("ETag").ifPresent(etag -> conditional.set("If-None-Match", etag));
    stored.headers().first("Last-Modified").ifPresent(date -> conditional.set("If-Modified-Since", date));
    Instant requested = clock.instant();
    Response response = upstream.handle(request.withHeaders(conditional.build()));
    if (response.status() != 304) {
      misses.increment();
      return mark(maybeStore(request, response, requested), "MISS", verdict);
    }
    closeQuietly(response.body());
    StoredResponse updated = stored.withHeaders(updateHeaders(stored.headers(), response.headers()),
        requested, clock.instant());
    if (isStorable(request, updated.status(), updated.headers())) {
      store.put(key(request), updated);
    } else {
      store.remove(key(request));
    }
    revalidations.increment();
    return mark(serve(updated, request, clock.instant()), "REVALIDATED", verdict);
  }

  /** Stores the response as it streams, if the rules allow; returns what to send on. */
  private Response maybeStore(Request request, Response response, Instant requested) {
    if (!request.method().equals("GET") || !isStorable(request, response.status(), response.headers())) {
      return response;
    }
    long length = response.body().contentLength();
    if (length > maxEntryBytes) {
      return response;
    }
    Instant responded = clock.instant();
    List<String> varyNames = varyNames(response.headers());
    List<String> varyValues = varyValues(varyNames, request.headers());
    Headers headers = response.headers().without(statusHeader);
    String url = key(request);
    return response.withBody(new StoringBody(response.body(), maxEntryBytes, body ->
        store.put(url, new StoredResponse(response.status(), response.reason(), headers, body,
            requested, responded, varyNames, varyValues))));
  }

  /** RFC 9111 §3: what a shared cache may store. */
  private boolean isStorable(Request request, int status, Headers headers) {
    CacheControl asked = CacheControl.of(request.headers());
    CacheControl response = CacheControl.of(headers);
    if (asked.has("no-store") || response.has("no-store") || response.has("private")) {
      return false;
    }
    if (status == 206 || status == 304 || status < 200) {
      return false;
    }
    if (headers.all("Vary").stream().anyMatch(v -> v.trim().equals("*"))) {
      return false;
    }
    if (request.headers().contains("Authorization")
        && !(response.has("public") || response.has("s-maxage") || response.has("must-revalidate"))) {
      return false;
    }
    boolean explicit = Freshness.hasExplicitFreshness(headers) || response.has("public");
    if (!explicit && !Freshness.HEURISTICALLY_CACHEABLE.contains(status)) {
      return false;
    }
    return Freshness.lifetimeSeconds(status, headers) > 0 || hasValidatorsIn(headers);
  }

  private Response serve(StoredResponse stored, Request request, Instant now) {
    Headers headers = stored.headers().with("Age", Long.toString(Freshness.currentAgeSeconds(stored, now)));
    if (notModified(request.headers(), stored.headers())) {
      return Response.builder().status(304).headers(notModifiedHeaders(headers)).build();
    }
    Response.Builder response = Response.builder().status(stored.status()).reason(stored.reason())
        .headers(headers);
    return response.body(request.method().equals("HEAD") ? Body.empty() : Body.of(stored.body())).build();
  }

  /** RFC 9110 §13.1.2 and §13.1.3: the client's own conditional request, against the entry. */
  private static boolean notModified(Headers request, Headers stored) {
    List<String> ifNoneMatch = request.all("If-None-Match");
    if (!ifNoneMatch.isEmpty()) {
      String etag = stored.first("ETag").map(HttpCache::weak).orElse(null);
      for (String value : ifNoneMatch) {
        for (String candidate : value.split(",")) {
          String tag = candidate.trim();
          if (tag.equals("*") || (etag != null && weak(tag).equals(etag))) {
            return true;
          }
        }
      }
      return false;
    }
    Instant since = request.first("If-Modified-Since").flatMap(HttpDates::parse).orElse(null);
    Instant modified = stored.first("Last-Modified").flatMap(HttpDates::parse).orElse(null);
    return since != null && modified != null && !modified.isAfter(since);
  }

  private static Headers notModifiedHeaders(Headers headers) {
    Headers.Builder kept = Headers.builder();
    for (int i = 0; i < headers.size(); i++) {
      String name = headers.name(i).toLowerCase(Locale.ROOT);
      if (!name.startsWith("content-") || name.equals("content-location")) {
        kept.add(headers.name(i), headers.value(i));
      }
    }
    return kept.build();
  }

  /** RFC 9111 §3.2: a 304's fields replace the stored ones, except the body's framing. */
  private static Headers updateHeaders(Headers stored, Headers fresh) {
    Headers.Builder updated = stored.toBuilder();
    for (int i = 0; i < fresh.size(); i++) {
      String name = fresh.name(i);
      if (!name.equalsIgnoreCase("Content-Length") && !name.equalsIgnoreCase("Via")) {
        updated.remove(name);
      }
    }
    for (int i = 0; i < fresh.size(); i++) {
      String name = fresh.name(i);
      if (!name.equalsIgnoreCase("Content-Length") && !name.equalsIgnoreCase("Via")) {
        updated.add(name, fresh.value(i));
      }
    }
    return updated.build();
  }

  private StoredResponse lookup(Request request) {
    for (StoredResponse candidate : store.variants(key(request))) {
      if (varyValues(candidate.varyNames(), request.headers()).equals(candidate.varyValues())) {
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

  private static List<String> varyNames(Headers headers) {
    List<String> names = new ArrayList<>();
    for (String value : headers.all("Vary")) {
      for (String name : value.split(",")) {
        String trimmed = name.trim().toLowerCase(Locale.ROOT);
        if (!trimmed.isEmpty()) {
          names.add(trimmed);
        }
      }
    }
    return List.copyOf(names);
  }

  /** RFC 9111 §4.1: values compared after combining fields and normalising whitespace. */
  private static List<String> varyValues(List<String> names, Headers request) {
    List<String> values = new ArrayList<>(names.size());
    for (String name : names) {
      values.add(String.join(",", request.all(name)).replaceAll("\\s*,\\s*", ",").replaceAll("\\s+", " ").trim());
    }
    return values;
  }

  private static boolean hasValidators(StoredResponse stored) {
    return hasValidatorsIn(stored.headers());
  }

  private static boolean hasValidatorsIn(Headers headers) {
    return headers.contains("ETag") || headers.contains("Last-Modified");
  }

  private static String weak(String tag) {
    return tag.startsWith("W/") ? tag.substring(2) : tag;
  }

  private Response mark(Response response, String status, Consumer<String> verdict) {
    verdict.accept(status);
    return response.withHeader(statusHeader, status);
  }

  private static void closeQuietly(Body body) {
    try {
      body.stream().close();
    } catch (IOException | IllegalStateException ignored) {
      // the 304 has no body to read
    }
  }

  /** Whether a stored response may answer a request without the upstream (RFC 9111 §4.2, §5.2). */
  private static final class Lookup {
    final boolean fresh;
    final boolean servable;

    Lookup(StoredResponse stored, CacheControl asked, Instant now, Headers requestHeaders) {
      CacheControl response = CacheControl.of(stored.headers());
      long lifetime = Freshness.lifetimeSeconds(stored.status(), stored.headers());
      long age = Freshness.currentAgeSeconds(stored, now);
      fresh = lifetime > age;
      servable = decide(asked, response, lifetime, age, requestHeaders);
    }

    private boolean decide(CacheControl asked, CacheControl response, long lifetime, long age,
        Headers requestHeaders) {
      // RFC 9111 §5.4: Pragma: no-cache counts only when Cache-Control is absent.
      boolean pragmaNoCache = !requestHeaders.contains("Cache-Control")
          && requestHeaders.containsToken("Pragma", "no-cache");
      if (asked.has("no-cache") || pragmaNoCache || response.has("no-cache")) {
        return false;
      }
      if (asked.has("max-age") && age > asked.seconds("max-age")) {
        return false;
      }
      if (asked.has("min-fresh") && lifetime - age < asked.seconds("min-fresh")) {
        return false;
      }
      if (fresh) {
        return true;
      }
      if (response.has("must-revalidate") || response.has("proxy-revalidate") || response.has("s-maxage")) {
        return false;
      }
      if (!asked.has("max-stale")) {
        return false;
      }
      return asked.argument("max-stale").isEmpty() || age - lifetime <= asked.seconds("max-stale");
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
