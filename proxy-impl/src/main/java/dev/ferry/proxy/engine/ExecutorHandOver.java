package dev.ferry.proxy.engine;

import java.util.ArrayDeque;
import java.util.concurrent.RejectedExecutionException;

/**
 * How a selector thread (the idle parker, an event loop) gives a readable connection to the
 * executor: at once when it has room. When it has none, a new client's first request is refused
 * 503, as at accept; an admitted client waits here instead, oldest first, offered again every
 * {@value #RETRY_MILLIS} ms and counted in the executor's waiting connections, because under a
 * burst of busy keep-alive clients refusing them lost about 40 % of their requests.
 *
 * <p>Concurrency: only its owner's selector thread uses it.
 */
final class ExecutorHandOver {
  /** How often waiting connections are offered to the executor again. */
  static final long RETRY_MILLIS = 5;

  private final ConnectionExecutor executor;
  private final ArrayDeque<ClientConnection> waiting = new ArrayDeque<>();

  ExecutorHandOver(ConnectionExecutor executor) {
    this.executor = executor;
  }

  /**
   * Gives {@code connection} (its channel blocking again, no longer parked) to the executor,
   * refuses it if it is a {@code newClient} and there is no room, else makes it wait its turn
   * behind any that wait already.
   */
  void handOver(ClientConnection connection, boolean newClient) {
    if (waiting.isEmpty()) {
      try {
        executor.execute(connection);
        return;
      } catch (RejectedExecutionException e) {
        // No room: refused or kept below.
      }
    }
    if (newClient) {
      connection.refuseOverloaded();
      return;
    }
    waiting.addLast(connection);
    executor.heldBack(1);
  }

  /** How long the owner's select may wait: {@code otherwise}, or the retry period while any wait. */
  long selectMillis(long otherwise) {
    return waiting.isEmpty() ? otherwise : RETRY_MILLIS;
  }

  /** Offers the waiting connections to the executor again, oldest first, while it takes them. */
  void retry() {
    while (!waiting.isEmpty()) {
      try {
        executor.execute(waiting.peekFirst());
      } catch (RejectedExecutionException e) {
        return;
      }
      waiting.pollFirst();
      executor.heldBack(-1);
    }
  }

  /** When the owner stops: ends the connections still waiting. */
  void abandon() {
    executor.heldBack(-waiting.size());
    waiting.forEach(ClientConnection::endOnLoop);
    waiting.clear();
  }
}
