package dev.ferry.proxy.engine;

import dev.ferry.proxy.engine.http1.LogValues;
import dev.ferry.proxy.engine.io.SelectorThreads;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds idle keep-alive connections without a thread (Tomcat's NIO poller, the "epoll" model): a
 * connection that waits for its next request is registered with one {@link Selector}, and handed
 * back to the executor once bytes arrive, so 10,000 idle connections cost no pool threads on
 * Java 17, and no parked virtual thread stacks on Java 21+. Request handling stays blocking.
 *
 * <p>Concurrency: one thread owns the selector. Other threads only enqueue registrations and wake
 * it. A ready channel's key is cancelled and flushed with {@code selectNow()} before the channel
 * goes back to blocking mode, which a still-registered channel would refuse. Deadlines (the idle
 * timeout, or the header timeout of a new connection) are checked four times a second.
 *
 * <p>Connections closing after an answer sent with request bytes unread linger here too
 * ({@link dev.ferry.proxy.engine.io.LingeringClose}): this thread reads and drops what they
 * still send until they finish or their second passes, and then ends them.
 *
 * <p>A readable connection that the executor has no room for (every thread busy and the queue
 * full) waits here for one ({@link ExecutorHandOver}); a new connection parked at accept for
 * want of a thread ({@link ClientConnection#parkAtAccept}) is not admitted yet, and its first
 * request is answered 503 when no thread takes it.
 *
 * <p>It also watches the sockets of clients whose exchanges wait long for their upstream
 * ({@link DepartureWatch}): such a socket is registered like an idle one, and when it turns
 * readable it is looked at, not resumed.
 */
final class IdleParker implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(IdleParker.class);
  private static final long EXPIRY_SCAN_NANOS = 250_000_000L;

  private final Selector selector;
  private final Queue<ClientConnection> arrivals = new ConcurrentLinkedQueue<>();
  /** Departure watches taken or given back; each is looked at on this thread. */
  private final Queue<DepartureWatch> watches = new ConcurrentLinkedQueue<>();
  private final ExecutorHandOver executorHandOver;
  private final Thread thread;
  /** Where lingering connections' last bytes are read and dropped; this thread's own. */
  private final ByteBuffer lingerScratch = ByteBuffer.allocateDirect(8192);
  private volatile boolean running = true;
  private long lastScan = System.nanoTime();

  IdleParker(ConnectionExecutor executor, ThreadFactory threads) throws IOException {
    this.selector = Selector.open();
    this.executorHandOver = new ExecutorHandOver(executor);
    this.thread = threads.newThread(this::loop);
  }

  void start() {
    thread.start();
  }

  /** Parks {@code connection} until its channel is readable or {@code deadlineNanos} passes. */
  void park(ClientConnection connection) {
    arrivals.add(connection);
    selector.wakeup();
  }

  /**
   * Takes {@code watch} (newly WATCHED) to watch its client's socket, or, once its exchange has
   * reclaimed it, gives the socket back in blocking mode.
   */
  void watch(DepartureWatch watch) {
    watches.add(watch);
    selector.wakeup();
  }

  /** False once stopped: a watch given back then is not settled here. */
  boolean running() {
    return running && thread.isAlive();
  }

  private void loop() {
    try {
      while (running) {
        selector.select(executorHandOver.selectMillis(EXPIRY_SCAN_NANOS / 1_000_000));
        executorHandOver.retry();
        List<ClientConnection> ready = new ArrayList<>();
        List<ClientConnection> expired = new ArrayList<>();
        List<DepartureWatch> looked = new ArrayList<>();
        List<DepartureWatch> readable = new ArrayList<>();
        register(expired);
        registerWatches(looked);
        for (Iterator<SelectionKey> it = selector.selectedKeys().iterator(); it.hasNext(); ) {
          SelectionKey key = it.next();
          it.remove();
          if (key.attachment() instanceof DepartureWatch watch) {
            key.cancel();
            if (!looked.contains(watch)) {
              looked.add(watch); // not reclaimed in this same turn
            }
            readable.add(watch);
            continue;
          }
          ClientConnection connection = (ClientConnection) key.attachment();
          if (connection.linger().onParker()) {
            if (connection.linger().drain(connection.channel(), lingerScratch)) {
              key.cancel();
              expired.add(connection);
            }
            continue;
          }
          key.cancel();
          ready.add(connection);
        }
        long now = System.nanoTime();
        if (now - lastScan >= EXPIRY_SCAN_NANOS) {
          lastScan = now;
          for (SelectionKey key : selector.keys()) {
            if (!(key.attachment() instanceof ClientConnection connection)) {
              continue; // a departure watch: its exchange's deadlines bound it
            }
            if (key.isValid() && now - connection.parkedDeadlineNanos() > 0) {
              key.cancel();
              expired.add(connection);
            }
          }
        }
        if (!ready.isEmpty() || !expired.isEmpty() || !looked.isEmpty()) {
          selector.selectNow();
        }
        for (DepartureWatch watch : looked) {
          settle(watch, readable.contains(watch));
        }
        ready.forEach(this::resume);
        for (ClientConnection connection : expired) {
          if (connection.linger().onParker()) {
            connection.endLinger();
          } else if (connection.holdsPartialHead()) {
            resume(connection); // its exchange answers 408
          } else {
            connection.expireParked();
          }
        }
      }
    } catch (IOException | ClosedSelectorException e) {
      if (running) {
        log.error("idle_parker_failed error={}", LogValues.quoted(e.toString()));
      }
    }
  }

  private void register(List<ClientConnection> expired) {
    ClientConnection connection;
    while ((connection = arrivals.poll()) != null) {
      SocketChannel channel = connection.channel();
      try {
        channel.configureBlocking(false);
        // A blind linger's input is shut: always "readable", it would spin the selector.
        channel.register(selector, connection.linger().blind() ? 0 : SelectionKey.OP_READ, connection);
      } catch (IOException | RuntimeException e) {
        // Closed meanwhile (the proxy stops, the client left): nothing to wait for.
        expired.add(connection);
      }
    }
  }

  /**
   * Registers the sockets of watches newly taken; a watch its exchange reclaimed has its key
   * cancelled and joins {@code looked}, to be settled once the selector has let go of it.
   */
  private void registerWatches(List<DepartureWatch> looked) {
    DepartureWatch watch;
    while ((watch = watches.poll()) != null) {
      if (!watch.pending() || looked.contains(watch)) {
        continue; // settled already, or queued twice
      }
      SelectionKey key = watch.key();
      if (watch.reclaimed()) {
        if (key != null) {
          key.cancel();
          looked.add(watch);
        } else {
          watch.settle(false); // never registered: the socket is still blocking
        }
      } else if (key == null) {
        try {
          watch.channel().configureBlocking(false);
          watch.key(watch.channel().register(selector, SelectionKey.OP_READ, watch));
        } catch (IOException | RuntimeException e) {
          // Closed meanwhile: the exchange finds out on its own.
          settle(watch, false);
        }
      }
    }
  }

  /**
   * Puts a watched socket back in blocking mode (its key flushed) and settles its watch; one that
   * turned {@code readable} is looked at first (see {@link DepartureWatch#look}), and watched on
   * when what came told nothing.
   */
  private void settle(DepartureWatch watch, boolean readable) {
    try {
      watch.channel().configureBlocking(true);
    } catch (IOException | RuntimeException e) {
      // Closed meanwhile: nothing to put back; the exchange finds out on its own.
      watch.settle(false);
      return;
    }
    DepartureWatch.Look look = readable ? watch.look() : DepartureWatch.Look.STAYED;
    if (look == DepartureWatch.Look.UNTOLD && !watch.reclaimed()) {
      try {
        watch.channel().configureBlocking(false);
        watch.key(watch.channel().register(selector, SelectionKey.OP_READ, watch));
        return;
      } catch (IOException | RuntimeException e) {
        settle(watch, false); // closed meanwhile
        return;
      }
    }
    watch.settle(look == DepartureWatch.Look.LEFT);
  }

  private void resume(ClientConnection connection) {
    try {
      connection.channel().configureBlocking(true);
    } catch (IOException | RuntimeException e) {
      connection.expireParked();
      return;
    }
    // No longer parked: a stop that comes while it waits for a thread lets it serve the request
    // that woke it, where it ended it as parked and reset the request (probe v30).
    connection.leaveParker();
    executorHandOver.handOver(connection, connection.parkedAtAccept());
  }

  /** Stops the selector thread; parked connections are closed by their owner. */
  @Override
  public void close() {
    running = false;
    SelectorThreads.stop(selector, thread);
  }
}
