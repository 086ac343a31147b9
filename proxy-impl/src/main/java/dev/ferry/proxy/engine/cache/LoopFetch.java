package dev.ferry.proxy.engine.cache;

import dev.ferry.proxy.CacheEntry;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import java.time.Instant;
import java.util.function.Consumer;

/**
 * A fetch an event loop makes for the cache and relays itself ({@link HttpCache#lookUpOnLoop}), as
 * the cache's own fetch on a thread would go: a miss, counted when it begins, leading the misses
 * of its URL that come from its lookup on (they wait on threads for its outcome); or the revalidation of a
 * stale entry, sent with the entry's validators ({@link #upstreamRequest}), or again as it came
 * where the entry has none. Its answer's head is judged when it comes ({@link #answered}): a 304
 * freshens the entry, which answers instead ({@link #instead}); another answer is a miss, marked,
 * its body copied for the store as it passes ({@link #fill}) where the storage rules allow, unless
 * it is a server error that {@code stale-if-error} hides behind the stale entry. A failure may be
 * hidden so too ({@link #failed}), or answered with must-revalidate's 504 ({@link #failure}).
 *
 * <p>Its exchange calls {@link #begin} once it runs and {@link #ended} once it is over, always:
 * the misses waiting on it are released then at the latest; a loop that makes no exchange of it
 * after all calls {@link #withdraw}. One exchange uses it, on its loop.
 */
public final class LoopFetch {
  private final HttpCache cache;
  private final Request request;
  private final String partition;
  /** What its miss leads the misses of its URL by (MissCoalescer), taken at lookup; or null. */
  private final StoreOutcome lead;
  private final CacheControl asked;
  /** The stale entry this fetch revalidates or replaces; null for a miss. */
  private final CacheEntry stored;
  /** It sends the stored validators, so a 304 may answer. */
  private boolean conditional;
  /** It asks again, unconditionally, after a 304 for another representation than the stored one. */
  private boolean again;
  private Request upstreamRequest;
  private StoreOutcome outcome;
  private Instant requested;
  private CacheFill fill;
  /** Whether its outcome was told how the fetch ended, or its copy ({@link #fill}) will tell it. */
  private boolean told;
  /** An answer's head came. */
  private boolean headCame;
  private Response instead;

  /**
   * @param lead what its outcome is told for the misses of its URL that wait for it
   *     ({@code MissCoalescer}, taken as the store was asked); null for a HEAD and for a stored
   *     entry's fetch, which no other waits for
   * @param stored the stale entry it revalidates or replaces; null for a miss
   * @param asked the request's {@code Cache-Control}
   * @param conditional whether it sends the stored validators
   */
  LoopFetch(HttpCache cache, Request request, String partition, StoreOutcome lead, CacheEntry stored,
      CacheControl asked, boolean conditional) {
    this.cache = cache;
    this.request = request;
    this.partition = partition;
    this.lead = lead;
    this.stored = stored;
    this.asked = asked;
    this.conditional = conditional;
  }

  /**
   * The request as it goes upstream: with the stored response's validators in place of the
   * client's (RFC 9111 §4.3.1) while it revalidates, else as it came.
   */
  public Request upstreamRequest() {
    if (upstreamRequest == null) {
      upstreamRequest = conditional ? Conditionals.conditional(request, stored) : request;
    }
    return upstreamRequest;
  }

  /**
   * The fetch begins: a miss is counted (a revalidation is, when it is answered with anything
   * but a 304); the misses of its URL wait for it already, since its lookup.
   */
  public void begin() {
    if (conditional) {
      outcome = StoreOutcome.NONE;
    } else {
      cache.missed();
      outcome = lead == null ? StoreOutcome.NONE : lead;
    }
    requested = cache.now();
  }

  /**
   * Its exchange will not run (the request goes to the threads after all, or a filter's cost
   * refuses it): the misses of its URL waiting on its lead look in the store again, and one of
   * them leads, as after a leader's 304 to a condition of its own. Nothing once it began.
   */
  public void withdraw() {
    if (outcome == null && lead != null) {
      outcome = StoreOutcome.NONE;
      told = true;
      lead.declined();
    }
  }

  /**
   * The upstream answered with {@code response}, whose body the loop relays (only its length is
   * read here): returns it as the client is sent it, marked a MISS, the verdict told to
   * {@code verdict}; the copy of its body, if it may be stored, is {@link #fill} from here. Null
   * when it is not relayed, its body unread: then {@link #instead} is the store's answer (the entry
   * a 304 freshened, or the stale one in place of a server error), or null when the request must
   * go again as {@link #upstreamRequest} now has it, unconditionally (the fetch began anew).
   */
  public Response answered(Response response, Consumer<String> verdict) {
    told = true;
    headCame = true;
    if (conditional && response.status() == 304) {
      instead = cache.notModified(request, stored, response, requested, verdict);
      if (instead == null) {
        // A 304 for another representation: the entry went. Asked again, as the cache's own
        // revalidation asks, a miss.
        conditional = false;
        again = true;
        upstreamRequest = null;
        told = false;
        headCame = false;
        begin();
      }
      return null;
    }
    if (conditional) {
      fill = cache.changed(request, stored, response, requested) ? cache.fill(this, response, requested) : null;
    } else {
      fill = cache.fill(this, response, requested);
      if (stored != null && !again) {
        cache.applyHead(request, stored, response, requested);
      }
    }
    if (stored != null && cache.hidesError(stored, asked, response.status())) {
      instead = cache.serveStale(request, stored, cache.counting(verdict));
      return null;
    }
    return cache.markMiss(response, verdict);
  }

  /** The store's answer in place of the upstream's, once {@link #answered} or {@link #failed} returned null or it. */
  public Response instead() {
    return instead;
  }

  /** What the answer's body bytes are copied to, as they pass; null where nothing is stored. */
  public CacheFill fill() {
    return fill;
  }

  /**
   * The fetch failed with {@code failure} before an answer (after the retries): returns the stale
   * entry's answer to send instead, where {@code stale-if-error} allows (marked STALE, told to
   * {@code verdict}); else null, the failure told as the cache's own fetch tells it (the misses
   * waiting share an upstream's timeout), and the proxy answers {@link #failure}. Null, nothing
   * done, once an answer came.
   */
  public Response failed(HttpFailureException failure, Consumer<String> verdict) {
    if (told || outcome == null) {
      return null;
    }
    told = true;
    if (stored != null && cache.hidesFailure(stored, asked, failure)) {
      instead = cache.serveStale(request, stored, cache.counting(verdict));
      return instead;
    }
    outcome.failed(failure);
    return null;
  }

  /**
   * What the proxy answers for {@code failure}, which {@link #failed} hid nothing of: a stored
   * must-revalidate entry the origin could not revalidate is answered 504 (RFC 9111 §5.2.2.2),
   * as the cache's own revalidation answers it; else {@code failure} itself.
   */
  public HttpFailureException failure(HttpFailureException failure) {
    return headCame ? failure : cache.answeredFailure(stored, failure);
  }

  /**
   * The exchange is over: a copy the body did not complete is given up; a fetch that came to no
   * answer nor failure (its client left first) says nothing of its URL, and the misses waiting
   * for it fetch for themselves; one that never began is withdrawn.
   */
  public void ended() {
    if (outcome == null) {
      withdraw();
      return;
    }
    if (!told) {
      told = true;
      outcome.abandoned();
    } else if (fill != null) {
      fill.abandon();
    }
  }

  Request request() {
    return request;
  }

  String partition() {
    return partition;
  }

  StoreOutcome outcome() {
    return outcome;
  }
}
