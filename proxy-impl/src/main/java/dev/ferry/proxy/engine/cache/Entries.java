package dev.ferry.proxy.engine.cache;

import dev.ferry.proxy.CacheEntry;
import dev.ferry.proxy.CacheStore;
import dev.ferry.proxy.Headers;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.engine.http1.LogValues;
import dev.ferry.proxy.engine.http1.LoggedUrls;
import dev.ferry.proxy.engine.io.ByteBudget;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Optional;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads and writes the {@link CacheStore} under RFC 9111's rules: selects the Vary variant of a
 * request (§4.1), stores what §3 allows as its body streams by, freshens an entry with a 304
 * (§4.3.4), combines partial entries (§3.4), and invalidates after unsafe methods (§4.4). The
 * store itself knows none of this.
 */
final class Entries {
  private static final Logger log = LoggerFactory.getLogger(Entries.class);
  private final CacheStore store;
  private final TargetedCacheControl targeted;
  private final Clock clock;
  private final long maxEntryBytes;
  private final String statusHeader;
  private final boolean storeSetCookie;
  private final StoredBodies bodies;
  /** What the copies of bodies being stored hold together at most (see {@link StoringBody}). */
  private final ByteBudget filling;
  private final StoredFacts.Memo facts = new StoredFacts.Memo(this::workOutFacts);
  final LongAdder revalidations = new LongAdder();

  Entries(CacheStore store, TargetedCacheControl targeted, Clock clock, long maxEntryBytes,
      String statusHeader, boolean storeSetCookie, StoredBodies bodies, ByteBudget filling) {
    this.store = store;
    this.bodies = bodies;
    this.filling = filling;
    this.targeted = targeted;
    this.clock = clock;
    this.maxEntryBytes = maxEntryBytes;
    this.statusHeader = statusHeader;
    this.storeSetCookie = storeSetCookie;
  }

  CacheStore store() {
    return store;
  }

  /** Where the stored bodies are held, for the cache's statistics. */
  StoredBodies bodies() {
    return bodies;
  }

  /** The headers that govern caching (see {@link TargetedCacheControl}). */
  private Headers policy(Headers headers) {
    return targeted.policy(headers);
  }

  /** What {@code stored}'s fields say of its freshness, and the file its body is in. */
  StoredFacts facts(CacheEntry stored) {
    return facts.of(stored);
  }

  private StoredFacts workOutFacts(CacheEntry stored) {
    Headers policy = policy(stored.headers());
    return new StoredFacts(stored, CacheControl.of(policy), Freshness.lifetimeSeconds(stored, policy),
        bodies.region(stored));
  }

  /** The proxy stops: the body files' descriptors close (hits go on from memory). */
  void close() {
    bodies.close();
  }

  static String key(Request request) {
    return StoragePolicy.origin(request) + CacheKeys.target(request.target());
  }

  /** The stored variant this request selects in {@code partition}, complete or partial, or null. */
  CacheEntry lookup(Request request, String partition) {
    for (CacheEntry candidate : store.variants(key(request))) {
      if (Variants.matches(candidate, partition, request.headers())) {
        return candidate;
      }
    }
    return null;
  }

  /**
   * Stores the response as it streams, if the rules allow; returns what to send on.
   * {@code outcome} is told once the copy is stored or abandoned, or at once that the response
   * may not be stored.
   */
  Response maybeStore(Request request, String partition, Response response, Instant requested,
      StoreOutcome outcome) {
    Consumer<ByteBuffer> save = saver(request, partition, response, requested, outcome);
    return save == null ? response
        : response.withBody(new StoringBody(response.body(), maxEntryBytes, filling, save, outcome));
  }

  /**
   * As {@link #maybeStore}, for a body an event loop relays: the copy its bytes are fed to, or
   * null where nothing is to be copied (the response may not be stored, or was, having no body).
   */
  CacheFill fill(Request request, String partition, Response response, Instant requested,
      StoreOutcome outcome) {
    Consumer<ByteBuffer> save = saver(request, partition, response, requested, outcome);
    return save == null ? null
        : new CacheFill(response.body().contentLength(), maxEntryBytes, filling, save, outcome);
  }

  /**
   * What stores the response's body once it came whole, or null: the rules do not allow it to be
   * stored ({@code outcome} told so), or it has no body and is stored now.
   */
  private Consumer<ByteBuffer> saver(Request request, String partition, Response response,
      Instant requested, StoreOutcome outcome) {
    Instant responded = clock.instant();
    Headers policy = policy(response.headers());
    boolean reusable = request.method().equals("GET")
        || request.method().equals("POST") && StoragePolicy.isReusablePost(request, policy);
    long length = response.body().contentLength();
    if (!reusable || length > maxEntryBytes) {
      outcome.refused();
      return null;
    }
    if (!StoragePolicy.isStorable(request, response.status(), policy, storeSetCookie, responded)) {
      // A 304 here answered the client's own condition: it says nothing of the URL.
      if (response.status() == 304) {
        outcome.declined();
      } else {
        outcome.refused();
      }
      return null;
    }
    Headers headers = StoragePolicy.strip(response.headers().without(statusHeader), policy);
    String variant = Variants.key(partition, response.headers(), request.headers());
    String url = key(request);
    Consumer<ByteBuffer> save = body -> put(url, bodies.store(body, kept -> CacheEntry.of(response.status(),
        response.reason(), headers, kept, requested, responded, variant)));
    if (length == 0) {
      // A bodiless response (204, or Content-Length: 0) has nothing to stream: store it now.
      save.accept(ByteBuffer.allocate(0));
      outcome.finished();
      return null;
    }
    if (length < 0 && isEventStream(response.headers())) {
      outcome.streaming();
    }
    return save;
  }

  /** True for server-sent events, a body that lasts as long as its origin keeps it open. */
  private static boolean isEventStream(Headers headers) {
    String type = headers.first("Content-Type").orElse("").strip();
    int end = type.indexOf(';');
    return (end < 0 ? type : type.substring(0, end).strip()).equalsIgnoreCase("text/event-stream");
  }

  /** Stores {@code entry}, combining a partial one with the part already held (§3.4). */
  void put(String url, CacheEntry entry) {
    if (log.isDebugEnabled()) {
      log.debug("cache_store key={} status={} size={}", LoggedUrls.logValue(url), entry.status(), entry.bodyLength());
    }
    if (entry.status() == 206) {
      if (!PartialContent.bodyMatches(entry.headers(), entry.bodyLength())) {
        return;
      }
      for (CacheEntry existing : store.variants(url)) {
        if (existing.variantKey().equals(entry.variantKey())) {
          Optional<CacheEntry> combined = PartialContent.combine(existing, entry, maxEntryBytes);
          if (combined.isPresent()) {
            store.put(url, combined.get());
            return;
          }
        }
      }
    }
    store.put(url, entry);
  }

  /**
   * §4.3.4: a 304 freshens the stored response with its fields; returns the updated entry. A 304
   * whose validator is not the stored response's may update nothing: the entry goes, and null
   * is returned (the request must then be made without the stored validators).
   */
  CacheEntry applyNotModified(Request request, CacheEntry stored, Response notModified, Instant requested) {
    HttpCache.closeQuietly(notModified.body());
    if (!Conditionals.selects(notModified.headers(), stored.headers())) {
      if (log.isDebugEnabled()) {
        log.debug("cache_304_mismatch key={} etag={}", LoggedUrls.logValue(key(request)),
            LogValues.of(notModified.headers().first("ETag").orElse("-")));
      }
      store.remove(key(request));
      return null;
    }
    return freshen(request, stored, notModified.headers(), requested);
  }

  /**
   * §4.3.5: a 200 to a HEAD updates the stored GET as a 304 would, when a validator it carries
   * matches the stored one's and its Content-Length, if it has one, is the stored length;
   * otherwise the stored response is no longer to be trusted, and goes.
   */
  void applyHead(Request request, CacheEntry stored, Response head, Instant requested) {
    Headers fields = head.headers();
    boolean validated = (fields.contains("ETag") || fields.contains("Last-Modified"))
        && Conditionals.selects(fields, stored.headers());
    boolean sameLength = fields.first("Content-Length")
        .map(length -> length.trim().equals(Integer.toString(stored.bodyLength()))).orElse(true);
    if (validated && sameLength) {
      freshen(request, stored, fields, requested);
    } else {
      store.remove(key(request));
    }
  }

  /**
   * The stored response with {@code fresh}'s fields (RFC 9111 §3.2), stored again if it may be,
   * removed if the updated response may no longer be stored; returns it to answer the request
   * that revalidated, with every field of {@code fresh}: those a qualified {@code private} or
   * {@code no-cache} names are kept from the store only (§5.2.2.4 and §5.2.2.7 allow them after
   * a successful revalidation; probe k14). A request that may not store (its {@code no-store},
   * its credentials) leaves the entry as it was: it is served the update, but one client's
   * request is no purge of what others share (probe k12).
   */
  private CacheEntry freshen(Request request, CacheEntry stored, Headers fresh, Instant requested) {
    Instant responded = clock.instant();
    Headers merged = Conditionals.updateHeaders(stored.headers(), fresh, responded);
    Headers policy = policy(merged);
    CacheEntry answer = bodies.sameBody(stored, stored.withHeaders(merged, requested, responded));
    revalidations.increment();
    if (StoragePolicy.requestForbidsStoring(request, CacheControl.of(policy))) {
      return answer;
    }
    if (StoragePolicy.isStorable(request, answer.status(), policy, storeSetCookie, responded)) {
      store.put(key(request),
          bodies.sameBody(stored, stored.withHeaders(StoragePolicy.strip(merged, policy), requested, responded)));
    } else {
      store.remove(key(request));
    }
    return answer;
  }

  /**
   * RFC 9111 §4.4: after a non-error response to an unsafe method, invalidate the target and a
   * same-origin Location / Content-Location.
   */
  void invalidate(Request request, Response response) {
    String target = key(request);
    String origin = StoragePolicy.origin(request);
    removeSpellings(origin, request.target());
    for (String field : new String[] {"Location", "Content-Location"}) {
      // A fragment is for the client alone (RFC 9110 §10.2.2), never part of a key.
      response.headers().first(field).map(value -> value.replaceFirst("#.*", "").trim()).ifPresent(location -> {
        String resolved = resolve(target, origin, location);
        resolved = resolved == null ? null : CacheKeys.url(resolved);
        if (resolved != null && resolved.regionMatches(true, 0, origin + "/", 0, origin.length() + 1)) {
          removeSpellings(origin, withoutDotSegments(resolved.substring(origin.length())));
        }
      });
    }
  }

  /**
   * Removes {@code path} under {@code origin} in each of its {@link CacheKeys#spellings}: a
   * reverse proxy's keys hold normalised paths, a forward proxy's the path as its client wrote it,
   * so a write to {@code /d%7Ed} invalidates a stored {@code /d~d} too (probe k12). True if an
   * entry went.
   */
  boolean removeSpellings(String origin, String path) {
    boolean removed = false;
    for (String spelling : CacheKeys.spellings(path, false)) {
      removed |= store.remove(origin + spelling);
    }
    return removed;
  }

  /**
   * RFC 3986 §5.2.4's remove_dot_segments on a resolved reference's path (the query left as it
   * is): unlike a request target, whose path climbing above the root is refused, a reference's
   * {@code ..} at the root is dropped ({@code ../c} from {@code /w} is {@code /c}), which
   * {@link URI#resolve} does not do (probe k24).
   */
  static String withoutDotSegments(String target) {
    int query = target.indexOf('?');
    String path = query < 0 ? target : target.substring(0, query);
    if (!path.contains("/.")) {
      return target;
    }
    Deque<String> kept = new ArrayDeque<>();
    String[] segments = path.split("/", -1);
    for (int i = 1; i < segments.length; i++) {
      boolean last = i == segments.length - 1;
      if (segments[i].equals("..")) {
        kept.pollLast();
      } else if (!segments[i].equals(".")) {
        kept.addLast(segments[i]);
        continue;
      }
      if (last) {
        kept.addLast(""); // "/a/.." is "/", a directory
      }
    }
    return "/" + String.join("/", kept) + (query < 0 ? "" : target.substring(query));
  }

  /**
   * A Location or Content-Location made absolute against the request's URL: it may be an absolute
   * path, an absolute URL or a relative reference (RFC 9110 §10.2.2); null if invalid.
   */
  private static String resolve(String target, String origin, String location) {
    if (location.startsWith("/") && !location.startsWith("//")) {
      return origin + location;
    }
    if (location.startsWith(origin + "/")) {
      return location;
    }
    try {
      return URI.create(target).resolve(new URI(location)).toString();
    } catch (URISyntaxException | IllegalArgumentException e) {
      return null;
    }
  }
}
