package dev.ferry.proxy.engine.upstream;

import dev.ferry.proxy.engine.io.Guard;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Idle keep-alive connections to upstreams, per {@link UpstreamKey}. Most recently used first,
 * so a burst reuses warm connections and the oldest age out; at most {@code maxIdlePerKey} are
 * kept, and none longer than {@code keepAlive}.
 */
public final class UpstreamPool {
  private final Guard guard = new Guard();
  private final Map<UpstreamKey, Deque<UpstreamConnection>> idle = new HashMap<>();
  private final int maxIdlePerKey;
  private final long keepAliveNanos;
  private final Duration connectTimeout;
  private final LongAdder opened = new LongAdder();
  private final LongAdder reused = new LongAdder();
  private final AtomicLong open = new AtomicLong();
  private boolean closed;

  public UpstreamPool(int maxIdlePerKey, Duration keepAlive, Duration connectTimeout) {
    this.maxIdlePerKey = maxIdlePerKey;
    this.keepAliveNanos = keepAlive.toNanos();
    this.connectTimeout = connectTimeout;
  }

  /** Returns a pooled connection to {@code key}, or opens a new one. */
  public UpstreamConnection acquire(UpstreamKey key) throws IOException {
    UpstreamConnection pooled = takeIdle(key);
    if (pooled != null) {
      reused.increment();
      return pooled;
    }
    return openFresh(key);
  }

  /** Opens a new connection, bypassing the pool (for retries and tunnels). */
  public UpstreamConnection openFresh(UpstreamKey key) throws IOException {
    UpstreamConnection connection = UpstreamConnection.open(key, connectTimeout);
    opened.increment();
    open.incrementAndGet();
    connection.onClose(open::decrementAndGet);
    return connection;
  }

  /** Returns a connection whose last response was read completely, for reuse. */
  public void release(UpstreamConnection connection) {
    long now = System.nanoTime();
    try {
      connection.markIdle(now);
    } catch (IOException e) {
      connection.close();
      return;
    }
    boolean kept = guard.call(() -> {
      if (closed || maxIdlePerKey == 0) {
        return false;
      }
      Deque<UpstreamConnection> queue = idle.computeIfAbsent(connection.key(), k -> new ArrayDeque<>());
      if (queue.size() >= maxIdlePerKey) {
        return false;
      }
      queue.addFirst(connection);
      return true;
    });
    if (!kept) {
      connection.close();
    }
  }

  /** Closes idle connections older than the keep-alive; called periodically. */
  public void evictExpired() {
    long now = System.nanoTime();
    List<UpstreamConnection> expired = new ArrayList<>();
    guard.run(() -> {
      for (Iterator<Deque<UpstreamConnection>> queues = idle.values().iterator(); queues.hasNext(); ) {
        Deque<UpstreamConnection> queue = queues.next();
        while (!queue.isEmpty() && now - queue.peekLast().idleSinceNanos() > keepAliveNanos) {
          expired.add(queue.removeLast());
        }
        if (queue.isEmpty()) {
          queues.remove();
        }
      }
    });
    expired.forEach(UpstreamConnection::close);
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

  /** Connections open now, busy or idle; a leak check's zero after stop. */
  public long openCount() {
    return open.get();
  }

  /** Idle connections held now, for tests and stats. */
  public int idleCount() {
    return guard.call(() -> idle.values().stream().mapToInt(Deque::size).sum());
  }

  private UpstreamConnection takeIdle(UpstreamKey key) {
    long now = System.nanoTime();
    List<UpstreamConnection> discarded = new ArrayList<>();
    UpstreamConnection found = guard.call(() -> {
      Deque<UpstreamConnection> queue = idle.get(key);
      while (queue != null && !queue.isEmpty()) {
        UpstreamConnection candidate = queue.pollFirst();
        if (now - candidate.idleSinceNanos() <= keepAliveNanos && candidate.looksUsable()) {
          return candidate;
        }
        discarded.add(candidate);
      }
      return null;
    });
    discarded.forEach(UpstreamConnection::close);
    return found;
  }
}
