package dev.ferry.proxy.engine.cache;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;

/**
 * Runs stale-while-revalidate refreshes (RFC 5861 §3) on their own threads, at most one per
 * URL at a time and {@value #MAX_RUNNING} in all, and stops them with the proxy so no thread
 * outlives it. A refresh past the limit is skipped: the stale response is served anyway, and a
 * later request for the URL starts it. Without the limit, many stale URLs behind a slow upstream
 * each held a thread (300 URLs: 300 threads, outside the executor's bound) and an upstream
 * request at once.
 */
final class BackgroundRefresh {
  static final int MAX_RUNNING = 32;

  private final ThreadFactory threads;
  private final Semaphore slots = new Semaphore(MAX_RUNNING);
  private final Set<String> running = ConcurrentHashMap.newKeySet();
  private final Set<Thread> live = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  BackgroundRefresh(ThreadFactory threads) {
    this.threads = threads;
  }

  /**
   * Starts {@code task} for {@code key} unless one is already running for it, the limit is
   * reached, or the proxy stops; returns whether it started.
   */
  boolean start(String key, Runnable task) {
    if (closed || !slots.tryAcquire()) {
      return false;
    }
    if (!running.add(key)) {
      slots.release();
      return false;
    }
    Thread thread = threads.newThread(() -> {
      try {
        task.run();
      } finally {
        running.remove(key);
        live.remove(Thread.currentThread());
        slots.release();
      }
    });
    live.add(thread);
    thread.start();
    return true;
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
