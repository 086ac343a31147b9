package dev.ferry.proxy.engine.upstream;

import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.io.Guard;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Idle keep-alive connections to upstreams, per {@link UpstreamKey}. Most recently used first,
 * so a burst reuses warm connections and the oldest age out; none is kept longer than
 * {@code keepAlive} or the upstream's own {@code Keep-Alive: timeout}.
 *
 * <p>{@code maxIdlePerKey} bounds what stays idle once load falls, not what a busy pool may hold:
 * a connection coming back is always kept, and the sweep closes the least recently used past the
 * cap once they have been idle for {@link #TRIM_AFTER_NANOS}. Closing on return instead (Go's
 * {@code MaxIdleConnsPerHost}) churns connections whenever more requests are in flight than the
 * cap: each close leaves a TIME_WAIT socket and the next request waits for a fresh connection.
 * With 128 concurrent clients and a cap of 64 that was about 120 new connections a second and a
 * p99 of 85–120 ms against nginx, 8 ms without the churn. An idle connection was in use moments
 * before, so the excess is bounded by the requests in flight at the burst's peak.
 *
 * <p>Reuse is checked, as OkHttp's {@code RealConnection.isHealthy} does: a connection idle for
 * more than {@link #PROBE_AFTER_NANOS}, or about to carry a request that may not or cannot be
 * sent twice (a POST, or a body too large to keep for a resend), gets a one-millisecond read
 * probe, which finds a FIN, a reset or unasked bytes; any other is checked for unasked bytes
 * waiting in the socket (one {@code ioctl}), so that bytes an upstream sent after its response,
 * however late, are never read as the next request's response.
 * A connection with anything unasked is never reused. The checks run outside the pool's lock.
 */
public final class UpstreamPool {
  static final long PROBE_AFTER_NANOS = TimeUnit.SECONDS.toNanos(1);
  /** How long a connection past the idle cap waits unused before the sweep closes it. */
  public static final long TRIM_AFTER_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final Guard guard = new Guard();
  private final Map<UpstreamKey, Deque<UpstreamConnection>> idle = new HashMap<>();
  /** Endpoints a reload removed: their connections close as their exchanges end. Guarded. */
  private final Set<UpstreamKey> retired = new HashSet<>();
  /** A copy of {@link #retired} for the event loops, which ask at every release without the lock. */
  private volatile Set<UpstreamKey> retiredNow = Set.of();
  private final int maxIdlePerKey;
  private final long keepAliveNanos;
  private final Connector connector;
  private final LongAdder opened = new LongAdder();
  private final LongAdder reused = new LongAdder();
  private final AtomicLong open = new AtomicLong();
  /** Idle connections of the event loops, which keep their own (see {@link #loopOpened}). */
  private final AtomicLong loopIdle = new AtomicLong();
  private boolean closed;

  public UpstreamPool(int maxIdlePerKey, Duration keepAlive, Connector connector) {
    this.maxIdlePerKey = maxIdlePerKey;
    this.keepAliveNanos = keepAlive.toNanos();
    this.connector = connector;
  }

  /**
   * Returns a pooled connection to {@code key} whose address {@code check} still allows, or
   * opens a new one.
   *
   * @param probe probe a pooled connection for a close however briefly it was idle: the request
   *     cannot be sent again if the connection turns out to be dead
   */
  public UpstreamConnection acquire(UpstreamKey key, DestinationCheck check, boolean probe)
      throws HttpFailureException {
    UpstreamConnection pooled = takeIdle(key, probe);
    if (pooled != null) {
      try {
        check.check(key.host(), key.port(), List.of(pooled.remoteAddress()), false);
      } catch (HttpFailureException e) {
        release(pooled);
        throw e;
      }
      return pooled;
    }
    return openFresh(key, check, false);
  }

  /** Opens a new connection, bypassing the pool (for retries and tunnels). */
  public UpstreamConnection openFresh(UpstreamKey key, DestinationCheck check, boolean tunnel)
      throws HttpFailureException {
    UpstreamConnection connection = connector.open(key, check, tunnel);
    opened.increment();
    open.incrementAndGet();
    connection.whenClosed(open::decrementAndGet);
    return connection;
  }

  /** Returns a connection whose last response was read completely, for reuse. */
  public void release(UpstreamConnection connection) {
    long now = System.nanoTime();
    try {
      connection.markIdle(now);
    } catch (java.io.IOException e) {
      connection.close();
      return;
    }
    boolean kept = guard.call(() -> {
      if (closed || maxIdlePerKey == 0 || retired.contains(connection.key())) {
        return false;
      }
      idle.computeIfAbsent(connection.key(), k -> new ArrayDeque<>()).addFirst(connection);
      return true;
    });
    if (!kept) {
      connection.close();
    }
  }

  /**
   * Closes idle connections past their keep-alive, and those past the idle cap unused for
   * {@link #TRIM_AFTER_NANOS}; called periodically.
   */
  public void evictExpired() {
    long now = System.nanoTime();
    List<UpstreamConnection> expired = new ArrayList<>();
    guard.run(() -> {
      for (Iterator<Deque<UpstreamConnection>> queues = idle.values().iterator(); queues.hasNext(); ) {
        Deque<UpstreamConnection> queue = queues.next();
        for (Iterator<UpstreamConnection> it = queue.iterator(); it.hasNext(); ) {
          UpstreamConnection connection = it.next();
          if (connection.expired(now, keepAliveNanos)) {
            it.remove();
            expired.add(connection);
          }
        }
        while (queue.size() > maxIdlePerKey && queue.peekLast().idleNanos(now) >= TRIM_AFTER_NANOS) {
          expired.add(queue.pollLast());
        }
        if (queue.isEmpty()) {
          queues.remove();
        }
      }
    });
    expired.forEach(UpstreamConnection::close);
  }

  /**
   * Closes the idle connections to {@code gone} (endpoints a reload removed), which would
   * otherwise stay open until their keep-alive ends; connections busy now finish their exchange
   * and are closed as they come back (probe g25: they were pooled again, open to an endpoint no
   * pool leads to). {@code current} are the endpoints the reload kept or added: one removed
   * before and back now is pooled again.
   */
  public void retire(Set<UpstreamKey> gone, Set<UpstreamKey> current) {
    List<UpstreamConnection> closing = new ArrayList<>();
    guard.run(() -> {
      retired.removeAll(current);
      retired.addAll(gone);
      retiredNow = Set.copyOf(retired);
      gone.forEach(key -> {
        Deque<UpstreamConnection> queue = idle.remove(key);
        if (queue != null) {
          closing.addAll(queue);
        }
      });
    });
    closing.forEach(UpstreamConnection::close);
  }

  /**
   * Whether a reload removed {@code key}'s endpoint ({@link #retire}): an event loop closes its
   * connections to it rather than keep them.
   */
  public boolean isRetired(UpstreamKey key) {
    return retiredNow.contains(key);
  }

  /** Closes every idle connection and refuses to keep any more. */
  public void close() {
    List<UpstreamConnection> all = new ArrayList<>();
    guard.run(() -> {
      closed = true;
      idle.values().forEach(all::addAll);
      idle.clear();
    });
    all.forEach(UpstreamConnection::close);
  }

  public long opened() {
    return opened.sum();
  }

  public long reused() {
    return reused.sum();
  }

  /**
   * Counts a response head read on a reused connection. Counted then, not when the connection
   * left the pool: one the upstream had closed meanwhile, its request sent again on a new
   * connection, was counted as reused (probe g28: 19 of 20 for an upstream that keeps none).
   */
  public void answeredOnReused() {
    reused.increment();
  }

  /**
   * Counts a connection an event loop opened and keeps itself: one of the proxy's upstream
   * connections all the same, in its statistics and its leak checks. Pair with {@link #loopClosed}.
   */
  public void loopOpened() {
    opened.increment();
    open.incrementAndGet();
  }

  /** An event loop's connection counted by {@link #loopOpened} closed. */
  public void loopClosed() {
    open.decrementAndGet();
  }

  /** An event loop's connection went idle ({@code +1}), or was taken or closed idle ({@code -1}). */
  public void loopIdle(int change) {
    loopIdle.addAndGet(change);
  }

  /** Connections open now, busy or idle; a leak check's zero after stop. */
  public long openCount() {
    return open.get();
  }

  /** Idle connections held now, for tests and stats. */
  public int idleCount() {
    return guard.call(() -> idle.values().stream().mapToInt(Deque::size).sum()) + (int) loopIdle.get();
  }

  private UpstreamConnection takeIdle(UpstreamKey key, boolean probe) {
    while (true) {
      long now = System.nanoTime();
      List<UpstreamConnection> discarded = new ArrayList<>();
      UpstreamConnection candidate = guard.call(() -> {
        Deque<UpstreamConnection> queue = idle.get(key);
        while (queue != null && !queue.isEmpty()) {
          UpstreamConnection next = queue.pollFirst();
          if (!next.expired(now, keepAliveNanos) && next.looksUsable()) {
            return next;
          }
          discarded.add(next);
        }
        return null;
      });
      discarded.forEach(UpstreamConnection::close);
      if (candidate == null) {
        return null;
      }
      boolean usable = probe || candidate.idleNanos(now) > PROBE_AFTER_NANOS
          ? candidate.probeAlive() : !candidate.hasUnaskedBytes();
      if (usable) {
        return candidate;
      }
      candidate.close();
    }
  }
}
