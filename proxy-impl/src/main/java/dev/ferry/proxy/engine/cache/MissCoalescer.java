package dev.ferry.proxy.engine.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.ferry.proxy.Response;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Concurrent misses for one URL make one upstream request: the first (the leader) fetches, the
 * others wait (up to {@link #WAIT}) until its response is stored or turns out uncacheable, then
 * look again, and fetch for themselves only if there is still nothing to serve. No lock is held
 * while anyone waits or does I/O; the leader's release is a completed future.
 *
 * <p>A URL whose last response could not be stored is remembered for {@link #UNCACHEABLE_FOR}
 * (Varnish's hit-for-miss): its next misses go upstream at once, side by side, instead of
 * queueing behind a leader whose answer they cannot share. A long poll answered after seconds
 * would otherwise make every concurrent poller wait twice as long. The first response that can
 * be stored ends the memory.
 */
final class MissCoalescer {
  static final Duration WAIT = Duration.ofSeconds(30);
  static final Duration UNCACHEABLE_FOR = Duration.ofSeconds(60);
  private static final int MAX_UNCACHEABLE = 10_000;

  /** The leader's fetch; {@code outcome} must be told once its response is stored or abandoned. */
  interface LeaderFetch {
    Response fetch(StoreOutcome outcome) throws IOException;
  }

  /** What a waiter does once the leader is done: look in the store again, else fetch. */
  interface Follow {
    Response afterLeader() throws IOException;
  }

  private final ConcurrentHashMap<String, CompletableFuture<Void>> inflight = new ConcurrentHashMap<>();
  private final Cache<String, Boolean> uncacheable = Caffeine.newBuilder()
      .expireAfterWrite(UNCACHEABLE_FOR).maximumSize(MAX_UNCACHEABLE).build();

  Response run(String key, LeaderFetch leaderFetch, Follow follow) throws IOException {
    if (uncacheable.getIfPresent(key) != null) {
      return leaderFetch.fetch(remembering(key, () -> { }));
    }
    CompletableFuture<Void> mine = new CompletableFuture<>();
    CompletableFuture<Void> leader = inflight.putIfAbsent(key, mine);
    if (leader != null) {
      awaitQuietly(leader);
      return follow.afterLeader();
    }
    Runnable release = () -> {
      inflight.remove(key, mine);
      mine.complete(null);
    };
    try {
      return leaderFetch.fetch(remembering(key, release));
    } catch (IOException | RuntimeException e) {
      release.run();
      throw e;
    }
  }

  /** Keeps the memory of {@code key} up to date with its fetch's outcome, then runs {@code then}. */
  private StoreOutcome remembering(String key, Runnable then) {
    return new StoreOutcome() {
      @Override
      public void finished() {
        uncacheable.invalidate(key);
        then.run();
      }

      @Override
      public void refused() {
        uncacheable.put(key, Boolean.TRUE);
        then.run();
      }
    };
  }

  private static void awaitQuietly(CompletableFuture<Void> leader) {
    try {
      leader.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      // the waiter fetches for itself
    }
  }
}
