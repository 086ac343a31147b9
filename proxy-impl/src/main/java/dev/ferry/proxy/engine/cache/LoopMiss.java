package dev.ferry.proxy.engine.cache;

import dev.ferry.proxy.Request;
import dev.ferry.proxy.Response;
import java.io.IOException;
import java.time.Instant;
import java.util.function.Consumer;

/**
 * A miss an event loop fetches and relays itself ({@link HttpCache#lookUpOnLoop}), as the cache's own
 * fetch would: counted when it begins, leading the misses of its URL that come meanwhile (they
 * wait on threads for its outcome), its answer's head marked and judged by the storage rules when
 * it comes, its body copied for the store as it passes ({@link #fill}) where they allow. Its
 * exchange calls {@link #begin} once it runs and {@link #ended} once it is over, always: the
 * misses waiting on it are released then at the latest. One exchange uses it, on its loop.
 */
public final class LoopMiss {
  private final HttpCache cache;
  private final Request request;
  private final String partition;
  private final String coalescing;
  private StoreOutcome outcome;
  private Instant requested;
  private CacheFill fill;
  /** Whether its outcome was told how the fetch ended, or its copy ({@link #fill}) will tell it. */
  private boolean told;

  /** @param coalescing its key among the misses ({@code MissCoalescer}); null for a HEAD */
  LoopMiss(HttpCache cache, Request request, String partition, String coalescing) {
    this.cache = cache;
    this.request = request;
    this.partition = partition;
    this.coalescing = coalescing;
  }

  /** The fetch begins: counted as a miss, and the misses of its URL from here wait for it. */
  public void begin() {
    outcome = cache.fetching(coalescing);
    requested = cache.now();
  }

  /**
   * The upstream answered with {@code response}, whose body the loop relays (only its length is
   * read here): returns it as the client is sent it, marked a MISS, the verdict told to
   * {@code verdict}; the copy of its body, if it may be stored, is {@link #fill} from here.
   */
  public Response answered(Response response, Consumer<String> verdict) {
    told = true;
    fill = cache.fill(this, response, requested);
    return cache.markMiss(response, verdict);
  }

  /** What the answer's body bytes are copied to, as they pass; null where nothing is stored. */
  public CacheFill fill() {
    return fill;
  }

  /**
   * The fetch failed with {@code failure}, answered with the proxy's error: told as the cache's
   * own fetch tells it (the misses waiting share an upstream's timeout). Nothing if an answer
   * came before.
   */
  public void failed(IOException failure) {
    if (!told && outcome != null) {
      told = true;
      outcome.failed(failure);
    }
  }

  /**
   * The exchange is over: a copy the body did not complete is given up; a fetch that came to no
   * answer nor failure (its client left first) says nothing of its URL, and the misses waiting
   * for it fetch for themselves.
   */
  public void ended() {
    if (outcome == null) {
      return; // it never began
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
