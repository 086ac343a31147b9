package dev.ferry.proxy.engine.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.ProxyFailure;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * Concurrent misses for one URL make one upstream request: the first (the leader) fetches, the
 * others wait (up to {@link #WAIT}, or longer where the upstream timeout is longer) until its
 * response is stored or turns out uncacheable, then look again. With still nothing to serve
 * after a response that was stored (another variant) or a 304 to the leader's own condition,
 * they run through the coalescer again, so that one of them fetches while the rest wait, instead
 * of all at once (probe k14); after one that could not be stored, or a failed fetch, or as soon
 * as the leader's head shows server-sent events (a body that ends when its origin ends it), they
 * fetch side by side (queued behind each other, a burst of requests with credentials waited for
 * one leader after another, probe v14). No lock is held while anyone waits or does I/O; the
 * leader's release is a completed future.
 *
 * <p>A URL whose last response could not be stored is remembered for {@link #UNCACHEABLE_FOR}
 * (Varnish's hit-for-miss): its next misses go upstream at once, side by side, instead of
 * queueing behind a leader whose answer they cannot share. A long poll answered after seconds
 * would otherwise make every concurrent poller wait twice as long. The first response that can
 * be stored ends the memory.
 *
 * <p>A leader whose upstream timed out passes that failure to the misses waiting on it: each
 * would otherwise wait for the leader and then a full upstream timeout of its own, in turn, and
 * the origin that did not answer one request would be sent them all. So the misses wait at
 * least as long as the leader may wait for its answer: with a 35 s upstream timeout they once
 * gave up after 30 s and each waited 35 s more.
 */
final class MissCoalescer {
  static final Duration WAIT = Duration.ofSeconds(30);
  static final Duration UNCACHEABLE_FOR = Duration.ofSeconds(60);
  /**
   * What the remembered URLs weigh together at most: their characters and a per-entry cost. By
   * count alone, 10,000 distinct 8,000-character URLs held 84 MB of heap for a minute, none of it
   * within the cache's bound (probe resources F2); this way about 12,000 URLs of 100 characters.
   */
  private static final long MAX_UNCACHEABLE_WEIGHT = 2L << 20;
  private static final int ENTRY_WEIGHT = 64;

  /** The leader's fetch; {@code outcome} must be told once its response is stored or abandoned. */
  interface LeaderFetch {
    /**
     * @param waitedFor true if misses of its URL that come meanwhile wait for it; false if it goes
     *     side by side with them (its URL's last answer could not be stored)
     */
    Response fetch(StoreOutcome outcome, boolean waitedFor) throws IOException;
  }

  /** What a waiter does once the leader is done: look in the store again, else fetch. */
  interface Follow {
    /**
     * @param again true if the leader's response was stored (another variant than the
     *     waiter's, say) or its request's alone: with still nothing to serve, the waiter may
     *     go through the coalescer again. False if it was not storable or the fetch failed:
     *     the waiters then fetch side by side, as before the leader.
     */
    Response afterLeader(boolean again) throws IOException;
  }

  /** How a leader's fetch ended, for its waiters (STREAMING: it has not, and may never). */
  private enum Ended { STORED, DECLINED, REFUSED, FAILED, STREAMING }

  private final ConcurrentHashMap<String, CompletableFuture<Ended>> inflight = new ConcurrentHashMap<>();
  private final long minimumWaitMillis;
  private final Cache<String, Boolean> uncacheable = Caffeine.newBuilder()
      .expireAfterWrite(UNCACHEABLE_FOR).maximumWeight(MAX_UNCACHEABLE_WEIGHT)
      .<String, Boolean>weigher((key, value) -> ENTRY_WEIGHT + key.length()).build();

  /** How many URLs are remembered as uncacheable now. */
  long uncacheableUrls() {
    uncacheable.cleanUp();
    return uncacheable.estimatedSize();
  }

  /** @param wait how long a miss waits for the leader at least ({@link #WAIT}) */
  MissCoalescer(Duration wait) {
    this.minimumWaitMillis = wait.toMillis();
  }

  /**
   * For a miss of {@code key} fetched at once by a caller that may not wait (an event loop), as
   * {@link #run} fetches it: side by side where its URL's last answer could not be stored, else
   * leading the misses that come from now on, which wait for it as for any leader. Returns what
   * its outcome is told, which releases them (it must be told, whatever becomes of the fetch);
   * null if another fetch leads, for which the caller's miss should wait, on a thread.
   */
  StoreOutcome fetchNow(String key) {
    StoreOutcome sideBySide = withoutWaiting(key);
    if (sideBySide != null) {
      return sideBySide;
    }
    if (inflight.containsKey(key)) {
      return null; // the common answer in a burst: no future made for nothing
    }
    CompletableFuture<Ended> mine = new CompletableFuture<>();
    return inflight.putIfAbsent(key, mine) == null ? leading(key, mine) : null;
  }

  /** The memory's outcome for a miss of {@code key} fetched beside others; null if it is not remembered. */
  private StoreOutcome withoutWaiting(String key) {
    return uncacheable.getIfPresent(key) != null ? remembering(key, ended -> { }) : null;
  }

  /**
   * @param upstreamTimeout how long the leader may wait for its upstream's answer (a route's
   *     timeout, times its tries): its misses wait as long, and a second
   */
  Response run(String key, Duration upstreamTimeout, LeaderFetch leaderFetch, Follow follow)
      throws IOException {
    StoreOutcome sideBySide = withoutWaiting(key);
    if (sideBySide != null) {
      return leaderFetch.fetch(sideBySide, false);
    }
    CompletableFuture<Ended> mine = new CompletableFuture<>();
    CompletableFuture<Ended> leader = inflight.putIfAbsent(key, mine);
    if (leader != null) {
      Ended ended;
      try {
        ended = awaitLeader(leader, Math.max(minimumWaitMillis, upstreamTimeout.plusSeconds(1).toMillis()));
      } catch (HttpFailureException timedOut) {
        throw new HttpFailureException(timedOut.failure(), timedOut.detail(), timedOut);
      }
      if (ended == null) {
        // A leader past its own upstream timeout is not coming back (a defect ended it untold):
        // the URL's next misses lead anew rather than each wait this long for it.
        inflight.remove(key, leader);
      }
      return follow.afterLeader(ended == Ended.STORED || ended == Ended.DECLINED);
    }
    try {
      return leaderFetch.fetch(leading(key, mine), true);
    } catch (IOException | RuntimeException e) {
      release(key, mine, Ended.FAILED);
      throw e;
    }
  }

  /** The leader's outcome: it keeps the memory up to date and releases the misses waiting on {@code mine}. */
  private StoreOutcome leading(String key, CompletableFuture<Ended> mine) {
    StoreOutcome outcome = remembering(key, ended -> release(key, mine, ended));
    return new StoreOutcome() {
      @Override
      public void finished() {
        outcome.finished();
      }

      @Override
      public void refused() {
        outcome.refused();
      }

      @Override
      public void declined() {
        outcome.declined();
      }

      @Override
      public void abandoned() {
        outcome.abandoned();
      }

      @Override
      public void streaming() {
        // Server-sent events end when their origin ends them: the waiters fetch side by side
        // now, rather than get nothing, not even a head, until then (probe stream1).
        release(key, mine, Ended.STREAMING);
      }

      @Override
      public void failed(IOException failure) {
        if (failure instanceof HttpFailureException timeout && isTimeout(timeout.failure())) {
          inflight.remove(key, mine);
          mine.completeExceptionally(timeout);
        }
        outcome.failed(failure);
      }
    };
  }

  private void release(String key, CompletableFuture<Ended> mine, Ended ended) {
    inflight.remove(key, mine);
    mine.complete(ended);
  }

  private static boolean isTimeout(ProxyFailure failure) {
    return failure == ProxyFailure.UPSTREAM_TIMEOUT || failure == ProxyFailure.UPSTREAM_CONNECT_TIMEOUT;
  }

  /** Keeps the memory of {@code key} up to date with its fetch's outcome, then tells {@code then}. */
  private StoreOutcome remembering(String key, Consumer<Ended> then) {
    return new StoreOutcome() {
      @Override
      public void finished() {
        uncacheable.invalidate(key);
        then.accept(Ended.STORED);
      }

      @Override
      public void refused() {
        uncacheable.put(key, Boolean.TRUE);
        then.accept(Ended.REFUSED);
      }

      @Override
      public void declined() {
        // A 304 to the leader's own condition says nothing of the URL: no memory either way.
        then.accept(Ended.DECLINED);
      }

      @Override
      public void abandoned() {
        // A body that broke says nothing of the URL's next answer: no memory either way.
        then.accept(Ended.FAILED);
      }

      @Override
      public void failed(IOException failure) {
        uncacheable.invalidate(key);
        then.accept(Ended.FAILED);
      }
    };
  }

  /**
   * Waits for the leader; returns how its fetch ended, or null if it took too long (the waiter
   * then fetches for itself).
   *
   * @throws HttpFailureException the leader's upstream timeout, to share
   */
  private static Ended awaitLeader(CompletableFuture<Ended> leader, long waitMillis)
      throws HttpFailureException {
    try {
      return leader.get(waitMillis, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException e) {
      throw (HttpFailureException) e.getCause();
    } catch (TimeoutException e) {
      // the waiter fetches for itself
    }
    return null;
  }
}
