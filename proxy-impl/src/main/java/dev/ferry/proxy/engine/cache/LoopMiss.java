package dev.ferry.proxy.engine.cache;

import dev.ferry.proxy.Request;
import dev.ferry.proxy.Response;
import java.io.IOException;
import java.time.Instant;
import java.util.function.Consumer;

/**
 * A miss an event loop fetches and relays itself ({@link HttpCache#missNow}), as the cache's own
 * fetch would: counted when it begins, its answer's head marked and judged by the storage rules
 * when it comes, its body copied for the store as it passes ({@link #fill}) where they allow.
 * One exchange uses it, on its loop.
 */
public final class LoopMiss {
  private final HttpCache cache;
  private final Request request;
  private final String partition;
  private final StoreOutcome outcome;
  private Instant requested;
  private CacheFill fill;
  private boolean answered;

  LoopMiss(HttpCache cache, Request request, String partition, StoreOutcome outcome) {
    this.cache = cache;
    this.request = request;
    this.partition = partition;
    this.outcome = outcome;
  }

  /** The fetch begins: counted as a miss. */
  public void begin() {
    requested = cache.fetching();
  }

  /**
   * The upstream answered with {@code response}, whose body the loop relays (only its length is
   * read here): returns it as the client is sent it, marked a MISS, the verdict told to
   * {@code verdict}; the copy of its body, if it may be stored, is {@link #fill} from here.
   */
  public Response answered(Response response, Consumer<String> verdict) {
    answered = true;
    fill = cache.fill(this, response, requested);
    return cache.markMiss(response, verdict);
  }

  /** What the answer's body bytes are copied to, as they pass; null where nothing is stored. */
  public CacheFill fill() {
    return fill;
  }

  /**
   * The exchange ended: a copy the body did not complete is given up; a fetch that had no answer
   * failed, as the cache's own fetch tells its outcome then.
   */
  public void ended() {
    if (!answered) {
      answered = true;
      outcome.failed(new IOException("no answer from the upstream"));
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
