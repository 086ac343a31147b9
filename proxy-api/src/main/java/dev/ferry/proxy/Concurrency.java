package dev.ferry.proxy;

import java.util.Locale;

/**
 * How the proxy runs its client connections: each connection is one task, which blocks on its
 * socket and loops over the connection's requests. This chooses what runs those tasks.
 *
 * <pre>{@code
 * // 400 threads; past 400 ready connections waiting for one, a new client is answered 503
 * ProxyServer.builder().concurrency(Concurrency.boundedPool(400, 400));
 * // 100 threads, up to 500 while clients wait and the CPUs have room (a slow backend)
 * ProxyServer.builder().concurrency(Concurrency.boundedPool(100, 10_000).growingTo(500));
 * }</pre>
 */
public final class Concurrency {

  /** The kinds of executor. */
  public enum Kind {
    /** Virtual threads where the runtime has them (Java 21+), a bounded pool otherwise. */
    AUTO,
    /** One virtual thread per connection. Needs Java 21+. */
    VIRTUAL_THREADS,
    /** A bounded pool of platform threads with a bounded queue; a full queue answers 503. */
    BOUNDED_POOL,
    /** One platform thread per connection, up to a cap; past it, 503. */
    THREAD_PER_CONNECTION
  }

  private static final Concurrency AUTO = new Concurrency(Kind.AUTO, 200, 10_000, 1_000);

  private final Kind kind;
  private final int maxThreads;
  private final int queueSize;
  private final int threadCeiling;

  private Concurrency(Kind kind, int maxThreads, int queueSize, int threadCeiling) {
    this.kind = kind;
    this.maxThreads = maxThreads;
    this.queueSize = queueSize;
    this.threadCeiling = threadCeiling;
  }

  /**
   * Virtual threads on Java 21+, otherwise {@code boundedPool(200, 10000).growingTo(1000)}. The
   * default.
   *
   * <p>On Java 17 the pool's cap of 200 threads moves with the load up to 1,000: see
   * {@link #growingTo}. Threads that wait on a slow backend leave the CPUs idle, and a fixed 200
   * of them served a backend taking 50 ms at 3.8k requests a second with 300 clients queued;
   * growing, the pool served 6.1k.
   *
   * <p>The pool's queue holds as many connections as {@link ProxyServer.Builder#maxConnections}
   * admits by default, so that on Java 17, as with virtual threads, clients busier than the
   * threads take turns rather than being refused: with a queue of 1,000, 2,000 clients each
   * sending its next request at once had a fifth of their requests answered 503 for want of a
   * thread, and each refused client reconnected to be refused again. A smaller queue, in
   * {@link #boundedPool}, refuses sooner instead of queueing longer.
   */
  public static Concurrency auto() {
    return AUTO;
  }

  /**
   * One virtual thread per connection. {@link ProxyServer.Builder#build()} fails on a runtime
   * older than Java 21 rather than fall back silently. Up to 256 keep-alive
   * connections at a time wait for their next request on their own thread, in one blocking read
   * (a busy client sends at once, and that is the cheapest wait); past that, a connection that
   * waits longer than 200 ms gives up its thread, as in {@link #boundedPool}: it is parked on a
   * selector and a new virtual thread serves it when bytes arrive, so an idle keep-alive
   * connection keeps no thread stack.
   */
  public static Concurrency virtualThreads() {
    return new Concurrency(Kind.VIRTUAL_THREADS, 0, 0, 0);
  }

  /**
   * A pool of at most {@code maxThreads} platform threads (a fixed cap; {@link #growingTo} lets it
   * grow with the load); up to {@code queueSize} accepted
   * connections wait for a thread, and past that a new connection is answered 503 at once.
   * Threads start as work needs them, not ahead of it: a connection goes to an idle thread if
   * there is one, else to a new thread while there are fewer than {@code maxThreads}, else to the
   * queue; a thread idle for 30 s ends. A
   * keep-alive connection already admitted whose next request arrives while the queue is full
   * is not refused: it waits on the idle selector until there is room.
   * A connection holds a thread only while it is busy: one that waits for its next request
   * (after 50 ms) is parked on a selector without a thread and handed back to the pool when bytes
   * arrive (Tomcat's NIO poller; the command line calls this model {@code epoll}), so idle
   * keep-alive connections, clients that connect and say nothing, and clients that send their
   * request head, or a small body (up to 16 KiB, by Content-Length or chunked), slowly (parked
   * between their bytes; a head still has the request-header timeout to complete) do not use up
   * the pool. That holds for TLS connections too, in their
   * handshakes as well: a client that has not sent its ClientHello, or stalls before its
   * Finished, is parked between its handshake messages, and its handshake and first request head
   * have the request-header timeout to complete; so is an intercepted CONNECT's tunnel until its
   * first bytes arrive. The exception, for speed: up to a quarter of the
   * threads may each keep a keep-alive connection that has been served waiting in one blocking
   * read for its next request (a busy client sends at once), until it arrives or the idle
   * timeout. When more connections are busy than there are threads, they take turns: one that
   * has kept a thread for 20 ms while others wait for one goes to the back of the queue after its
   * current response, so a client that never pauses cannot keep a thread from the others.
   *
   * @throws IllegalArgumentException if {@code maxThreads < 1} or {@code queueSize < 0}
   */
  public static Concurrency boundedPool(int maxThreads, int queueSize) {
    if (maxThreads < 1) {
      throw new IllegalArgumentException("maxThreads must be at least 1 (was " + maxThreads + ")");
    }
    if (queueSize < 0) {
      throw new IllegalArgumentException("queueSize must not be negative (was " + queueSize + ")");
    }
    return new Concurrency(Kind.BOUNDED_POOL, maxThreads, queueSize, maxThreads);
  }

  /**
   * This bounded pool, with a thread cap that moves with the load from {@code maxThreads()} up to
   * {@code ceiling}. Every 250 ms: while every thread is taken, connections wait for one and the
   * machine's CPUs (or the container's share) are less than three quarters busy, the cap grows by
   * a quarter; while the CPUs are more than nine tenths busy, a grown cap shrinks by a fifth; and
   * once no connection has waited for 30 s it returns to {@code maxThreads()}. Threads that are
   * let in start at once for the connections already queued, and threads above the cap end as
   * they finish their connection's turn.
   *
   * <p>For a pool in front of backends that take their time: a connection's thread waits while
   * its upstream answers, so a fixed cap limits the requests under way whatever the CPUs could
   * do. A fixed large cap is no answer, since threads the CPUs cannot keep busy only add
   * switching (1,000 fixed threads ran a CPU-bound load 17 % slower than 200); the CPU load tells
   * the two apart. Each thread costs its stack, about 256 KiB of memory measured under load.
   * {@code growingTo(maxThreads())} is the fixed pool.
   *
   * @throws IllegalStateException if this is not a {@link #boundedPool}
   * @throws IllegalArgumentException if {@code ceiling < maxThreads()}
   */
  public Concurrency growingTo(int ceiling) {
    if (kind != Kind.BOUNDED_POOL) {
      throw new IllegalStateException("growingTo applies to boundedPool(maxThreads, queueSize), not to "
          + this + (kind == Kind.AUTO ? ", whose pool on Java 17 grows to " + threadCeiling : ""));
    }
    if (ceiling < maxThreads) {
      throw new IllegalArgumentException("growingTo(" + ceiling + ") is below the pool's maxThreads "
          + maxThreads + ": give at least " + maxThreads);
    }
    return new Concurrency(Kind.BOUNDED_POOL, maxThreads, queueSize, ceiling);
  }

  /**
   * A new platform thread for each connection, at most {@code maxThreads} at once; past that, a
   * new connection is answered 503.
   *
   * @throws IllegalArgumentException if {@code maxThreads < 1}
   */
  public static Concurrency threadPerConnection(int maxThreads) {
    if (maxThreads < 1) {
      throw new IllegalArgumentException("maxThreads must be at least 1 (was " + maxThreads + ")");
    }
    return new Concurrency(Kind.THREAD_PER_CONNECTION, maxThreads, 0, maxThreads);
  }

  /** The kind of executor. */
  public Kind kind() {
    return kind;
  }

  /**
   * The thread cap for {@link Kind#BOUNDED_POOL} (where it starts, if it {@linkplain #growingTo
   * grows}) and {@link Kind#THREAD_PER_CONNECTION}.
   */
  public int maxThreads() {
    return maxThreads;
  }

  /** The queue length for {@link Kind#BOUNDED_POOL}. */
  public int queueSize() {
    return queueSize;
  }

  /**
   * The most threads a {@link Kind#BOUNDED_POOL} may {@linkplain #growingTo grow} to, its
   * {@link #maxThreads()} when fixed; for {@link #auto()}, what its pool on Java 17 grows to
   * (1,000); for {@link Kind#THREAD_PER_CONNECTION}, its cap; 0 for virtual threads.
   */
  public int threadCeiling() {
    return threadCeiling;
  }

  @Override
  public boolean equals(Object other) {
    if (!(other instanceof Concurrency)) {
      return false;
    }
    Concurrency that = (Concurrency) other;
    return kind == that.kind && maxThreads == that.maxThreads && queueSize == that.queueSize
        && threadCeiling == that.threadCeiling;
  }

  @Override
  public int hashCode() {
    return ((kind.hashCode() * 31 + maxThreads) * 31 + queueSize) * 31 + threadCeiling;
  }

  /** Returns {@code boundedPool(200, 1000)}, {@code boundedPool(100, 0).growingTo(400)} and the like. */
  @Override
  public String toString() {
    switch (kind) {
      case AUTO: return "auto()";
      case VIRTUAL_THREADS: return "virtualThreads()";
      case BOUNDED_POOL:
        return String.format(Locale.ROOT, "boundedPool(%d, %d)", maxThreads, queueSize)
            + (threadCeiling > maxThreads ? ".growingTo(" + threadCeiling + ")" : "");
      default: return String.format(Locale.ROOT, "threadPerConnection(%d)", maxThreads);
    }
  }
}
