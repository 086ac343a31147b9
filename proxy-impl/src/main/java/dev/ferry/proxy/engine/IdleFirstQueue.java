package dev.ferry.proxy.engine;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The bounded pool's queue, which takes a task only when a pool thread is idle to run it or the
 * pool has all its threads; otherwise {@link #offer} refuses, and {@link ThreadPoolExecutor}
 * starts a thread for the task (the rule of Tomcat's {@code TaskQueue}). A pool whose core size
 * is its maximum starts a thread for every task until it has them all, idle ones or not: under
 * steady load a pool of 200 kept 200 threads for 64 connections, each with a touched stack and
 * the JDK's per-thread cache of native I/O buffers. With this queue the pool holds about as many
 * threads as there are connections busy at once.
 */
final class IdleFirstQueue extends ArrayBlockingQueue<Runnable> {
  /** Tasks handed to the pool and not finished: queued or running. */
  private final AtomicInteger unfinished = new AtomicInteger();
  private volatile ThreadPoolExecutor pool;

  IdleFirstQueue(int capacity) {
    super(capacity);
  }

  /** The pool this queue feeds; set once, before the first task. */
  void feed(ThreadPoolExecutor pool) {
    this.pool = pool;
  }

  /** Counts a task about to be handed to the pool; {@link #finished} counts it out. */
  void submitted() {
    unfinished.incrementAndGet();
  }

  /** Counts out a task that ran, or that the pool refused. */
  void finished() {
    unfinished.decrementAndGet();
  }

  @Override
  public boolean offer(Runnable task) {
    int threads = pool.getPoolSize();
    if (threads < pool.getMaximumPoolSize() && unfinished.get() > threads) {
      return false;
    }
    return super.offer(task);
  }

  /**
   * Queues a task the pool refused because it reached its maximum between {@link #offer}'s
   * refusal and its attempt to start a thread; false if the queue is full.
   */
  boolean queueRefused(Runnable task) {
    return !pool.isShutdown() && super.offer(task);
  }
}
