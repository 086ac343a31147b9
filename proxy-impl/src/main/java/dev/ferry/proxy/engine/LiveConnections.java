package dev.ferry.proxy.engine;

import dev.ferry.proxy.engine.io.Guard;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;

/**
 * The proxy's open client connections: each is added when accepted and removed when it ends,
 * until the proxy stops, which closes the set to new ones, closes those it holds and waits for
 * them to end.
 */
final class LiveConnections {
  private final Guard guard = new Guard();
  private final Condition emptied = guard.newCondition();
  private final Set<ClientConnection> connections = new LinkedHashSet<>();
  /** The count the proxy's statistics report. */
  private final AtomicLong active;
  private boolean closed;

  /** @param active counts the connections held, for statistics */
  LiveConnections(AtomicLong active) {
    this.active = active;
  }

  /** Adds a new connection; false, adding nothing, once the set is closed. */
  boolean add(ClientConnection connection) {
    return guard.call(() -> {
      if (closed) {
        return false;
      }
      connections.add(connection);
      active.incrementAndGet();
      return true;
    });
  }

  /** Removes a connection that ended; nothing if it was removed before. */
  void remove(ClientConnection connection) {
    guard.run(() -> {
      if (connections.remove(connection)) {
        active.decrementAndGet();
        if (connections.isEmpty()) {
          emptied.signalAll();
        }
      }
    });
  }

  /**
   * Refuses new connections from now on and returns those held: every connection the proxy
   * still has to close is in it or never added.
   */
  List<ClientConnection> close() {
    return guard.call(() -> {
      closed = true;
      return new ArrayList<>(connections);
    });
  }

  /** The connections held now. */
  List<ClientConnection> snapshot() {
    return guard.call(() -> new ArrayList<>(connections));
  }

  /** Waits until no connection is held; false if {@code timeout} passes first or the wait is interrupted. */
  boolean awaitEmpty(Duration timeout) {
    try {
      return guard.await(emptied, connections::isEmpty, timeout.toNanos());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
