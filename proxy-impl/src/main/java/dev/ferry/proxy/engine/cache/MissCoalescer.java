package dev.ferry.proxy.engine.cache;

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
 */
final class MissCoalescer {
  static final Duration WAIT = Duration.ofSeconds(30);

  /** The leader's fetch; {@code finished} must run once its response is stored or abandoned. */
  interface LeaderFetch {
    Response fetch(Runnable finished) throws IOException;
  }

  /** What a waiter does once the leader is done: look in the store again, else fetch. */
  interface Follow {
    Response afterLeader() throws IOException;
  }

  private final ConcurrentHashMap<String, CompletableFuture<Void>> inflight = new ConcurrentHashMap<>();

  Response run(String key, LeaderFetch leaderFetch, Follow follow) throws IOException {
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
      return leaderFetch.fetch(release);
    } catch (IOException | RuntimeException e) {
      release.run();
      throw e;
    }
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
