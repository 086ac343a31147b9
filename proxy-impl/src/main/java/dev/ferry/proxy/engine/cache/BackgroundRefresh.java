package dev.ferry.proxy.engine.cache;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;

/**
 * Runs stale-while-revalidate refreshes (RFC 5861 §3) on their own threads, at most one per
 * URL at a time, and stops them with the proxy so no thread outlives it.
 */
final class BackgroundRefresh {
  private final ThreadFactory threads;
  private final Set<String> running = ConcurrentHashMap.newKeySet();
  private final Set<Thread> live = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  BackgroundRefresh(ThreadFactory threads) {
    this.threads = threads;
  }

  /** Starts {@code task} for {@code key} unless one is already running or the proxy stops. */
  void start(String key, Runnable task) {
    if (closed || !running.add(key)) {
      return;
    }
    Thread thread = threads.newThread(() -> {
      try {
        task.run();
      } finally {
        running.remove(key);
        live.remove(Thread.currentThread());
      }
    });
    live.add(thread);
    thread.start();
  }

  /** Interrupts running refreshes and waits for them, up to {@code timeout}. */
  void close(Duration timeout) {
    closed = true;
    long deadline = System.nanoTime() + timeout.toNanos();
    for (Thread thread : live) {
      thread.interrupt();
    }
    for (Thread thread : live) {
      long left = (deadline - System.nanoTime()) / 1_000_000;
      if (left <= 0) {
        return;
      }
      try {
        thread.join(left);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
