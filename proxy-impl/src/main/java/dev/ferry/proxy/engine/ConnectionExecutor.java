package dev.ferry.proxy.engine;

import dev.ferry.proxy.Concurrency;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs connection tasks as the {@link Concurrency} option says. A task that cannot run at once or
 * be queued is rejected with {@link RejectedExecutionException}; the listener answers it 503.
 */
final class ConnectionExecutor {
  private static final Logger log = LoggerFactory.getLogger(ConnectionExecutor.class);
  private static final int MAX_HELD_IDLE_VIRTUAL = 256;
  /** How long a task with no queue waits for a thread that has just finished its last one. */
  private static final long HAND_OFF_WAIT_MILLIS = 5;
  private final String description;
  private final ThreadFactory threads;
  private final boolean virtual;
  /** Virtual-thread connection tasks alive now (a parked connection has none). */
  private final AtomicInteger virtualTasks = new AtomicInteger();
  private final ThreadPoolExecutor pool;
  /** The pool's queue, unless it has none (a queue size of 0: each task handed to a thread). */
  private final IdleFirstQueue queue;
  private final Semaphore threadPermits;
  private final int maxThreads;
  /** Moves the pool's thread cap with the load (a growing pool, as auto()'s on Java 17); null: fixed. */
  private final PoolSizer sizer;
  /** Idle keep-alive connections waiting on their own thread now; see {@link #holdIdle}. */
  private final AtomicInteger heldIdle = new AtomicInteger();
  private final int maxHeldIdle;
  /** Connection tasks handed to the pool and not started yet; see {@link #othersWaiting}. */
  private final AtomicInteger waiting = new AtomicInteger();
  /** The pool's tasks running now: read per exchange, where the pool's own count takes its lock. */
  private final AtomicInteger running = new AtomicInteger();
  /** Readable connections the idle parker holds back while the pool has no room. */
  private final AtomicInteger heldBack = new AtomicInteger();
  /** Whether the pool refused a connection for want of a thread since {@link #adjustThreads} last ran. */
  private final AtomicBoolean refusedSinceAdjusted = new AtomicBoolean();

  private ConnectionExecutor(String description, ThreadFactory threads, ThreadPoolExecutor pool,
      Semaphore threadPermits, int maxThreads, PoolSizer sizer) {
    this.description = description;
    this.threads = threads;
    this.virtual = pool == null && threadPermits == null;
    this.pool = pool;
    this.queue = pool != null && pool.getQueue() instanceof IdleFirstQueue
        ? (IdleFirstQueue) pool.getQueue() : null;
    this.threadPermits = threadPermits;
    this.maxThreads = maxThreads;
    this.sizer = sizer;
    // On the pool, held connections are bounded by the threads running (see holdIdle).
    this.maxHeldIdle = pool != null ? (sizer != null ? sizer.ceiling() : maxThreads)
        : virtual ? MAX_HELD_IDLE_VIRTUAL : 0;
  }

  /** True if {@link #create} runs connections on virtual threads for {@code concurrency}. */
  static boolean runsOnVirtualThreads(Concurrency concurrency) {
    return concurrency.kind() == Concurrency.Kind.VIRTUAL_THREADS
        || concurrency.kind() == Concurrency.Kind.AUTO && VirtualThreads.factory("ferry-probe-").isPresent();
  }

  static ConnectionExecutor create(Concurrency concurrency, int port) {
    ThreadFactory platform = platformThreads("ferry-worker-" + port + "-");
    switch (concurrency.kind()) {
      case AUTO: {
        ThreadFactory virtual = VirtualThreads.factory("ferry-worker-" + port + "-").orElse(null);
        if (virtual != null) {
          return new ConnectionExecutor("virtualThreads", virtual, null, null, 0, null);
        }
        return pooled(Concurrency.boundedPool(concurrency.maxThreads(), concurrency.queueSize())
            .growingTo(concurrency.threadCeiling()), platform);
      }
      case VIRTUAL_THREADS:
        return new ConnectionExecutor("virtualThreads",
            VirtualThreads.factory("ferry-worker-" + port + "-").orElseThrow(() ->
                new IllegalStateException("virtual threads need Java 21+, running on " + Runtime.version())),
            null, null, 0, null);
      case BOUNDED_POOL:
        return pooled(concurrency, platform);
      default:
        return new ConnectionExecutor("threadPerConnection(" + concurrency.maxThreads() + ")",
            platform, null, new Semaphore(concurrency.maxThreads()), concurrency.maxThreads(), null);
    }
  }

  /**
   * A pool that starts threads as tasks need them, up to {@code maxThreads}: a task goes to an
   * idle thread, else to a new thread, else waits in the queue (see {@link IdleFirstQueue}). A
   * pool {@linkplain Concurrency#growingTo growing} past its cap gets a {@link PoolSizer} (see
   * {@link #adjustThreads}).
   */
  private static ConnectionExecutor pooled(Concurrency concurrency, ThreadFactory platform) {
    BlockingQueue<Runnable> queue = concurrency.queueSize() == 0
        ? new SynchronousQueue<>() : new IdleFirstQueue(concurrency.queueSize());
    ThreadPoolExecutor pool = new ThreadPoolExecutor(0, concurrency.maxThreads(), 30, TimeUnit.SECONDS,
        queue, platform, queue instanceof SynchronousQueue ? ConnectionExecutor::handOffToFinishingThread
            : new ThreadPoolExecutor.AbortPolicy());
    if (queue instanceof IdleFirstQueue) {
      ((IdleFirstQueue) queue).feed(pool);
    }
    PoolSizer sizer = concurrency.threadCeiling() > concurrency.maxThreads()
        ? new PoolSizer(concurrency.maxThreads(), concurrency.threadCeiling(), PoolSizer.systemCpuLoad()) : null;
    return new ConnectionExecutor(concurrency.toString(), platform, pool, null, concurrency.maxThreads(), sizer);
  }

  /** True if the pool's thread cap moves with the load: {@link #adjustThreads} is to be called. */
  boolean adjustsThreads() {
    return sizer != null;
  }

  /**
   * Sets the pool's thread cap as its {@link PoolSizer} decides; called every
   * {@link PoolSizer#TICK_MILLIS}. A raised cap starts threads for the connections already
   * queued at once: the pool itself starts threads only for tasks handed to it afterwards, and
   * queued connections would wait for the busy threads regardless. A lowered cap ends threads
   * as they finish their current connection's turn.
   */
  void adjustThreads() {
    int current = pool.getMaximumPoolSize();
    // Connections wait for a thread only if every thread is taken: one handed to an idle thread
    // counts as waiting until it starts. A full queue, or none, refuses them instead.
    boolean refused = refusedSinceAdjusted.getAndSet(false);
    boolean starved = refused || running.get() >= current && othersWaiting();
    int next = sizer.next(current, starved, System.nanoTime());
    if (next == current || pool.isShutdown()) {
      return;
    }
    pool.setMaximumPoolSize(next);
    if (next > current) {
      int start = Math.min(next - pool.getPoolSize(), pool.getQueue().size());
      if (start > 0) {
        // A raised core size starts that many threads, each taking a queued task; back at 0 at
        // once, they end after 30 s idle like the rest.
        pool.setCorePoolSize(Math.min(next, pool.getPoolSize() + start));
        pool.setCorePoolSize(0);
      }
    }
    log.debug("pool_threads_cap threads={} was={} waiting={}", next, current, waiting.get() + heldBack.get());
  }

  /**
   * Without a queue, a task is handed to a thread waiting for one: a thread that has finished its
   * last task and not yet begun to wait found none, and a new client's request was refused 503
   * with that thread about to be idle (OverloadTest, 2 runs in about 40 under load). Such a task waits
   * briefly for it; with every thread busy, it is refused at once.
   */
  private static void handOffToFinishingThread(Runnable task, ThreadPoolExecutor pool) {
    if (!pool.isShutdown() && pool.getActiveCount() < pool.getPoolSize()) {
      try {
        if (pool.getQueue().offer(task, HAND_OFF_WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
          return;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    throw new RejectedExecutionException("every thread of the pool is busy and it has no queue");
  }

  /** Daemon platform threads: an embedded proxy must never keep its host JVM alive. */
  static ThreadFactory platformThreads(String prefix) {
    AtomicLong counter = new AtomicLong();
    return task -> {
      Thread thread = new Thread(task, prefix + counter.getAndIncrement());
      thread.setDaemon(true);
      return thread;
    };
  }

  void execute(Runnable task) {
    if (pool != null) {
      enqueue(task);
      return;
    }
    if (virtual) {
      virtualTasks.incrementAndGet();
      start(task, virtualTasks::decrementAndGet);
      return;
    }
    if (!threadPermits.tryAcquire()) {
      throw new RejectedExecutionException("all " + description + " threads busy");
    }
    start(task, threadPermits::release);
  }

  private void enqueue(Runnable task) {
    waiting.incrementAndGet();
    if (queue != null) {
      queue.submitted();
    }
    Turn counted = new Turn(task);
    try {
      pool.execute(counted);
    } catch (RejectedExecutionException e) {
      if (queue != null && queue.queueRefused(counted)) {
        return;
      }
      waiting.decrementAndGet();
      if (queue != null) {
        queue.finished();
      }
      refusedSinceAdjusted.set(true);
      throw e;
    }
  }

  /**
   * Puts a connection's task at the back of the pool's queue, for a connection that has had its
   * turn while others wait ({@link #othersWaiting}); false if the queue is full or there is no
   * pool.
   */
  boolean requeue(Runnable task) {
    if (pool == null) {
      return false;
    }
    // The turn ending stops counting as running now: the next may begin on another thread
    // before this one returns, and counted twice it was refused the hold of an idle connection.
    Turn ending = Turn.CURRENT.get();
    if (ending != null && ending.pool() == pool) {
      ending.uncount();
    } else {
      ending = null;
    }
    try {
      enqueue(task);
      return true;
    } catch (RejectedExecutionException e) {
      if (ending != null) {
        ending.count();
      }
      return false;
    }
  }

  /** A connection task's turn on a pool thread, counted as running from its start until it ends or requeues. */
  private final class Turn implements Runnable {
    /** The turn this pool thread runs now, if it runs one. */
    static final ThreadLocal<Turn> CURRENT = new ThreadLocal<>();

    private final Runnable task;
    private boolean counted;

    Turn(Runnable task) {
      this.task = task;
    }

    @Override
    public void run() {
      waiting.decrementAndGet();
      count();
      CURRENT.set(this);
      try {
        task.run();
      } finally {
        CURRENT.remove();
        uncount();
        if (queue != null) {
          queue.finished();
        }
      }
    }

    /** The pool it runs on: {@link #CURRENT} is shared by every proxy in the JVM. */
    ThreadPoolExecutor pool() {
      return pool;
    }

    /** Counts the turn as running, once; only its own thread calls this and {@link #uncount}. */
    void count() {
      if (!counted) {
        counted = true;
        running.incrementAndGet();
      }
    }

    void uncount() {
      if (counted) {
        counted = false;
        running.decrementAndGet();
      }
    }
  }

  /** Runs {@code task} on a new thread, then {@code atEnd} however the task ends. */
  private void start(Runnable task, Runnable atEnd) {
    threads.newThread(() -> {
      try {
        task.run();
      } finally {
        atEnd.run();
      }
    }).start();
  }

  /**
   * True when a connection should close after its current response rather than keep a thread
   * for a next request that may never come: under thread per connection, once three quarters of
   * the threads are taken. Deciding at response time, with {@code Connection: close}, tells the
   * client; closing an idle connection later would race with its next request (the rule Tomcat's
   * blocking connector used, {@code disableKeepAlivePercentage}). The bounded pool never sheds:
   * its idle connections are parked on a selector and hold no thread.
   */
  boolean shouldShedKeepAlive() {
    return threadPermits != null && threadPermits.availablePermits() * 4 < maxThreads;
  }

  /**
   * Threads that can serve connections: the pool's size, the per-connection cap, or, with
   * virtual threads (no fixed pool), the connection tasks alive now.
   */
  int workers() {
    if (pool != null) {
      return pool.getMaximumPoolSize();
    }
    return threadPermits != null ? maxThreads : virtualTasks.get();
  }

  /** Connection tasks running now; an idle connection parked on the selector has none. */
  int activeWorkers() {
    if (pool != null) {
      return pool.getActiveCount();
    }
    return threadPermits != null ? maxThreads - threadPermits.availablePermits() : virtualTasks.get();
  }

  /**
   * Connections waiting for a pool thread now: in the pool's queue, or held back by the idle
   * parker while the queue is full; 0 without a bounded pool.
   */
  int queueDepth() {
    return pool == null ? 0 : pool.getQueue().size() + heldBack.get();
  }

  /** Counts connections the idle parker or an event loop holds back for lack of room. */
  void heldBack(int delta) {
    heldBack.addAndGet(delta);
  }

  /** The bounded pool's queue capacity; 0 without one. */
  int maxQueueDepth() {
    return pool == null ? 0 : pool.getQueue().size() + pool.getQueue().remainingCapacity();
  }

  /**
   * True for the bounded pool and virtual threads, whose idle connections are parked on a selector:
   * the pool so that they hold no platform thread, virtual threads so that they hold no stack (a
   * virtual thread blocked in a socket read keeps about 10 KiB of frames on the heap). Not for a
   * thread per connection, which sheds keep-alive instead.
   */
  boolean parksIdleConnections() {
    return pool != null || virtual;
  }

  /**
   * Asks whether an idle keep-alive connection may wait for its next request on its own thread,
   * in one blocking read, instead of a short timed wait and then the selector; true means it
   * must call {@link #releaseIdle} when the wait ends. A busy client sends its next request at
   * once, and a blocking read is one system call where a timed one costs a poll (and, on
   * Java 17, four {@code fcntl} to switch the channel's mode and back). On the pool, a connection
   * is held while fewer than half of the threads run (held ones included): so the other half
   * is always there for connections with work, and none is held once the pool is half busy with
   * it. A quarter of the pool at most, as before, left 14 of 64 busy clients on timed waits:
   * 1 KiB cache hits cost 39 µs of CPU each, against 30 µs with all of them held. Virtual
   * threads are held up to 256 (their stacks and buffers, about 10 MiB). Past the bound, a
   * connection waits briefly and is parked on the selector; a held one keeps its thread until
   * its next request or the idle timeout.
   */
  boolean holdIdle() {
    if (pool != null && running.get() * 2 >= pool.getMaximumPoolSize()) {
      return false;
    }
    if (heldIdle.incrementAndGet() <= maxHeldIdle) {
      return true;
    }
    heldIdle.decrementAndGet();
    return false;
  }

  /**
   * True when connections wait in the pool's queue for a thread. A connection that has had its
   * turn then {@linkplain #requeue goes to the back}: a busy client always sends its next
   * request within the short wait for it, so otherwise as many clients as there are threads keep
   * them for good and the rest wait in the queue for seconds (wrk with 512 connections on a pool
   * of 200 saw requests time out after 2 s).
   */
  boolean othersWaiting() {
    return waiting.get() > 0 || heldBack.get() > 0;
  }

  /** Ends a wait that {@link #holdIdle} allowed. */
  void releaseIdle() {
    heldIdle.decrementAndGet();
  }

  /**
   * Whether an exchange waiting for its upstream without a {@link DepartureWatch} (no selector:
   * {@code threadPerConnection}) should look, a second at a time, for a client that has left: with platform threads once half of them are busy, where the timed waits buy
   * back threads that departed clients would hold until the upstream timeout. Not before, nor on
   * virtual threads, which no number of waiting exchanges runs short of: a timed read costs far
   * more than a blocking one (measured on the 1 KiB miss path, about a fifth more CPU per request
   * on Java 17's pool and half as much again on Java 25's virtual threads).
   */
  boolean watchesDepartedClients() {
    if (pool != null) {
      return running.get() * 2 >= pool.getMaximumPoolSize();
    }
    return !virtual && (maxThreads - threadPermits.availablePermits()) * 2 >= maxThreads;
  }

  /** True when connection tasks run on virtual threads, which are cheap to start afresh. */
  boolean isVirtual() {
    return virtual;
  }

  /** Threads for work beside a connection's own, such as the second direction of a tunnel. */
  ThreadFactory auxiliaryThreads() {
    return threads;
  }

  String description() {
    return description;
  }

  /** Stops the pool's idle threads; connection tasks have ended by the time this is called. */
  void shutdown(Duration timeout) throws InterruptedException {
    if (pool != null) {
      pool.shutdown();
      pool.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }
  }
}
