package dev.ferry.proxy.engine;

import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.engine.http1.LogValues;
import dev.ferry.proxy.engine.http1.RecentValues;
import dev.ferry.proxy.engine.io.DirectBuffers;
import dev.ferry.proxy.engine.io.SelectorThreads;
import dev.ferry.proxy.engine.upstream.UpstreamKey;
import dev.ferry.proxy.engine.upstream.UpstreamPool;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * One selector thread of the event-loop core ({@code ProxyServer.Builder#eventLoop}): it holds
 * its share of the client connections while they wait for a request, and runs on itself the
 * exchanges nothing can block on: a GET or HEAD, or a small body that came with its head, through
 * filters that only check or rewrite its head, answered from the cache or sent to a reverse
 * proxy's plain-http pool or a forward proxy's {@code http} origin (see {@link LoopAdmission},
 * which says which exactly); a head that comes in pieces is awaited here, under the
 * request-header timeout. Any other request is handed to the executor with its bytes, as the
 * idle parker hands over a readable connection, and served there as before, as is a head still
 * in pieces at its deadline (408); once that exchange is over, the connection waits for its
 * next request here again.
 *
 * <p>Concurrency: this thread owns the selector, the exchanges and the upstream connections.
 * Other threads only enqueue new connections and work for its exchanges (a name looked up,
 * {@link #later}) and wake it; the stopping proxy may close a
 * connection parked here (its key then goes invalid, and nothing here touches it again).
 * Deadlines (idle and header timeouts, the upstream's connect and response timeouts, the
 * client's write timeout, the upstream keep-alive) are checked every {@value #SCAN_MILLIS} ms.
 */
final class EventLoop implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EventLoop.class);
  static final long SCAN_MILLIS = 100;
  /** Heap buffers kept for responses once the direct ones are all taken (128 KiB each). */
  private static final int SPARE_BUFFERS = 16;

  private final RealProxyServer server;
  private final Selector selector;
  private final Queue<ClientConnection> arrivals = new ConcurrentLinkedQueue<>();
  /** Work other threads give an exchange of this loop (a name looked up), run on this thread. */
  private final Queue<Later> later = new ConcurrentLinkedQueue<>();
  private final Map<UpstreamKey, ArrayDeque<LoopUpstream>> idle = new HashMap<>();
  private final Set<LoopExchange> running = new LinkedHashSet<>();
  private final ArrayDeque<ByteBuffer> spareBuffers = new ArrayDeque<>();
  /** Connections to hand to the executor at the end of this turn (see {@link #endTurn}). */
  private final List<ClientConnection> handOvers = new ArrayList<>();
  /** Channels ended this turn, clients' and upstreams', keys cancelled: closed once the selector drops them. */
  private final List<SocketChannel> closing = new ArrayList<>();
  private final ExecutorHandOver executorHandOver;
  /**
   * Where a chunked answer's bytes are copied to be followed ({@link LoopExchange}): one per loop,
   * used by one exchange at a time, never kept between its calls.
   */
  final byte[] chunkScratch = new byte[16 * 1024];
  /**
   * Where the heads this loop parses have their lines read, one head at a time: a line up to 8 KiB
   * (the default request-line limit) needs no array of its own, and a connection's own array
   * would be made anew for each request, as a waiting connection drops it.
   */
  final byte[] lineScratch = new byte[8 * 1024];
  /** The strings this loop's heads carried lately, for the next heads that carry them again. */
  final RecentValues recentValues = new RecentValues();
  /** Where this loop's exchanges build their heads, one at a time. */
  final LoopHead head = new LoopHead();
  /** What an idle upstream connection's check reads into (see {@link LoopUpstream#quiet}). */
  private final ByteBuffer probe = ByteBuffer.allocateDirect(1);
  private final Thread thread;
  private volatile boolean open = true;
  private long lastScan = System.nanoTime();

  EventLoop(RealProxyServer server, ThreadFactory threads) throws IOException {
    this.server = server;
    this.selector = Selector.open();
    this.executorHandOver = new ExecutorHandOver(server.executor());
    this.thread = threads.newThread(this::loop);
  }

  void start() {
    thread.start();
  }

  /**
   * Takes a connection (registered with the proxy already) to wait for its request here: a new
   * one, or one whose exchange on a thread is over.
   */
  void take(ClientConnection connection) {
    arrivals.add(connection);
    selector.wakeup();
    if (!open) {
      endArrivals(); // stopped meanwhile: its thread may have ended them all already
    }
  }

  /** Work for one exchange, run by the loop's thread. */
  private record Later(LoopExchange exchange, Runnable work) { }

  /**
   * Runs {@code work} for {@code exchange} on this loop's thread at its next turn; any thread may
   * call. Once the loop stopped it never runs: the loop ended the exchange already.
   */
  void later(LoopExchange exchange, Runnable work) {
    later.add(new Later(exchange, work));
    selector.wakeup();
  }

  /** Runs a {@link #later} task as an event of its exchange's connection ({@link #ready}). */
  private void run(Later task) {
    MDC.put(ProxyServer.MDC_CONNECTION, task.exchange().connection().logName());
    try {
      task.work().run();
    } catch (RuntimeException e) {
      log.error("event_loop_exchange_failed error={}", LogValues.quoted(e.toString()), e);
      task.exchange().abort(e);
    } finally {
      MDC.remove(ProxyServer.MDC_CONNECTION);
    }
  }

  /** Ends the connections taken and not yet parked; any thread may, each is polled once. */
  private void endArrivals() {
    ClientConnection arrived;
    while ((arrived = arrivals.poll()) != null) {
      arrived.endOnLoop();
    }
  }

  RealProxyServer server() {
    return server;
  }

  private void loop() {
    try {
      while (open) {
        // Each ready key is handled as the selector finds it: no selected-key set to fill and
        // empty (a hash set's node per event).
        selector.select(this::ready, executorHandOver.selectMillis(SCAN_MILLIS));
        executorHandOver.retry();
        ClientConnection arrived;
        while ((arrived = arrivals.poll()) != null) {
          park(arrived);
        }
        Later task;
        while ((task = later.poll()) != null) {
          run(task);
        }
        long now = System.nanoTime();
        if (now - lastScan >= SCAN_MILLIS * 1_000_000L) {
          lastScan = now;
          scan(now);
        }
        endTurn();
      }
    } catch (IOException | ClosedSelectorException e) {
      if (open) {
        log.error("event_loop_failed error={}", LogValues.quoted(e.toString()));
      }
    } finally {
      releaseAll();
    }
  }

  private void ready(SelectionKey key) {
    Object attachment = key.attachment();
    if (!key.isValid()) {
      return; // closed by the stopping proxy meanwhile
    }
    ClientConnection served = servedBy(attachment);
    if (served != null) {
      // The thread column of the CLI's log lines names the connection, as on the threads.
      MDC.put(ProxyServer.MDC_CONNECTION, served.logName());
    }
    try {
      if (attachment instanceof ClientConnection connection) {
        requestArrived(connection, key);
      } else if (attachment instanceof LoopExchange exchange) {
        exchange.clientReady();
      } else {
        LoopUpstream upstream = (LoopUpstream) attachment;
        if (upstream.exchange == null) {
          dropIdle(upstream); // unasked bytes, or its close: never reused
        } else {
          upstream.exchange.upstreamReady(upstream);
        }
      }
    } catch (CancelledKeyException e) {
      // The stopping proxy closed the connection: it is over.
      if (attachment instanceof LoopExchange exchange) {
        exchange.abort(e);
      }
    } catch (RuntimeException e) {
      // A defect must not end the loop and strand every connection on it: this one ends.
      log.error("event_loop_exchange_failed error={}", LogValues.quoted(e.toString()), e);
      if (attachment instanceof LoopExchange exchange) {
        exchange.abort(e);
      } else if (attachment instanceof ClientConnection connection) {
        key.cancel();
        connection.endOnLoop();
      } else if (((LoopUpstream) attachment).exchange != null) {
        ((LoopUpstream) attachment).exchange.abort(e);
      } else {
        dropIdle((LoopUpstream) attachment);
      }
    } finally {
      if (served != null) {
        MDC.remove(ProxyServer.MDC_CONNECTION);
      }
    }
  }

  /** The client connection a key's event is for; null for an idle upstream connection's. */
  private static ClientConnection servedBy(Object attachment) {
    if (attachment instanceof ClientConnection connection) {
      return connection;
    }
    if (attachment instanceof LoopExchange exchange) {
      return exchange.connection();
    }
    LoopExchange exchange = ((LoopUpstream) attachment).exchange;
    return exchange == null ? null : exchange.connection();
  }

  /** Registers an idle connection to wait for its next request; ends it if it must close. */
  void park(ClientConnection connection) {
    if (!connection.parkOnLoop()) {
      connection.endOnLoop();
      return;
    }
    try {
      SocketChannel channel = connection.channel();
      channel.configureBlocking(false);
      channel.register(selector, SelectionKey.OP_READ, connection);
    } catch (IOException | RuntimeException e) {
      connection.endOnLoop(); // closed meanwhile (the client left, the proxy stops)
    }
  }

  /** A parked connection turned readable: its exchange runs here, or it is handed over. */
  private void requestArrived(ClientConnection connection, SelectionKey key) {
    switch (LoopAdmission.start(this, connection, key)) {
      case STARTED -> { }
      case WAITING -> {
        if (!connection.waitOnLoop()) {
          key.cancel();
          connection.endOnLoop();
        }
      }
      case ENDED -> {
        key.cancel();
        connection.endOnLoop();
      }
      case HAND_OVER -> {
        key.cancel();
        handOver(connection);
      }
    }
  }

  /**
   * An exchange on {@code connection} ended and it may carry another: serves a request that came
   * already (pipelined), or waits for the next one on {@code key}.
   */
  void next(ClientConnection connection, SelectionKey key) {
    key.attach(connection);
    if (connection.input().hasBuffered()) {
      requestArrived(connection, key);
      return;
    }
    if (!connection.parkOnLoop()) {
      key.cancel();
      connection.endOnLoop();
      return;
    }
    key.interestOps(SelectionKey.OP_READ);
  }

  /**
   * Gives {@code connection} to the executor once this turn's keys are done, its bytes read so
   * far in its input, as the idle parker resumes a readable one; its key must be cancelled.
   */
  private void handOver(ClientConnection connection) {
    handOvers.add(connection);
  }

  /**
   * Hands over this turn's connections and closes its ended ones: their cancelled keys flushed
   * first (a channel still registered cannot block again, and would be shut down before it is
   * closed), which the turn's iteration over the selected keys forbids.
   */
  private void endTurn() throws IOException {
    if (handOvers.isEmpty() && closing.isEmpty()) {
      return;
    }
    selector.selectNow();
    for (ClientConnection connection : handOvers) {
      try {
        connection.channel().configureBlocking(true);
      } catch (IOException | RuntimeException e) {
        connection.endOnLoop();
        continue;
      }
      connection.leaveParker();
      executorHandOver.handOver(connection, connection.neverServed());
    }
    handOvers.clear();
    closeEnded();
  }

  /** An exchange began on this loop: its deadlines are watched until it ends. */
  void running(LoopExchange exchange) {
    running.add(exchange);
  }

  void ended(LoopExchange exchange) {
    running.remove(exchange);
  }

  /** An idle upstream connection to {@code key}, or null if none is left. */
  LoopUpstream idleUpstream(UpstreamKey key) {
    ArrayDeque<LoopUpstream> waiting = idle.get(key);
    LoopUpstream upstream;
    while (waiting != null && (upstream = waiting.pollFirst()) != null) {
      if (upstream.quiet(probe)) {
        return upstream;
      }
      upstream.close();
    }
    return null;
  }

  LoopUpstream openUpstream(UpstreamKey key, InetSocketAddress address) throws IOException {
    return LoopUpstream.open(key, address, this, selector, server.upstreamPool(),
        server.configuration().upstreamKeepAlive().toNanos());
  }

  /**
   * Keeps {@code upstream} for the next exchange to its endpoint, most recent first, as the
   * blocking pool keeps its own ({@link UpstreamPool}): always, however many are idle already,
   * so that more requests in flight than {@code maxIdleUpstreamConnections} do not close and
   * reopen connections at every turn of a load; {@link #scan} closes those past the cap, per
   * endpoint on this loop, once unused a while. Never to an endpoint a reload removed, nor with
   * pooling off, nor one holding bytes past its answer (a 204's or a 304's body, sent
   * with the head, would be read as the next request's answer), as the pool's are checked.
   */
  void release(LoopUpstream upstream) {
    if (server.configuration().maxIdleUpstreamConnections() == 0
        || server.upstreamPool().isRetired(upstream.key) || upstream.input().hasBuffered()) {
      upstream.close();
      return;
    }
    upstream.idle(System.nanoTime());
    idle.computeIfAbsent(upstream.key, k -> new ArrayDeque<>()).addFirst(upstream);
  }

  private void dropIdle(LoopUpstream upstream) {
    ArrayDeque<LoopUpstream> waiting = idle.get(upstream.key);
    if (waiting != null) {
      waiting.remove(upstream);
    }
    upstream.close();
  }

  /**
   * A buffer for a response's bytes, given back with {@link #giveBack}: one of the process's
   * pooled direct buffers (which the blocking relay shares), else one of this loop's heap
   * buffers. Never a direct buffer of its own: direct memory dropped is freed only when the
   * collector finds it, and a loop taking and dropping them under load held 800 MiB of RSS.
   */
  ByteBuffer takeBuffer() {
    ByteBuffer direct = DirectBuffers.take();
    if (direct != null) {
      return direct;
    }
    ByteBuffer spare = spareBuffers.pollFirst();
    return spare != null ? spare.clear() : ByteBuffer.allocate(DirectBuffers.SIZE);
  }

  void giveBack(ByteBuffer buffer) {
    if (buffer.isDirect()) {
      DirectBuffers.give(buffer);
    } else if (spareBuffers.size() < SPARE_BUFFERS) {
      spareBuffers.addFirst(buffer);
    }
  }

  /** Expires what waited too long: parked connections, exchanges, idle upstream connections. */
  private void scan(long now) {
    List<ClientConnection> expired = new ArrayList<>();
    for (SelectionKey key : selector.keys()) {
      if (key.isValid() && key.attachment() instanceof ClientConnection connection
          && now - connection.parkedDeadlineNanos() > 0) {
        key.cancel();
        expired.add(connection);
      }
    }
    for (ClientConnection connection : expired) {
      if (connection.holdsPartialHead()) {
        handOver(connection); // its exchange answers 408, as after the idle parker's wait
      } else {
        connection.expireParked();
      }
    }
    for (LoopExchange exchange : List.copyOf(running)) {
      MDC.put(ProxyServer.MDC_CONNECTION, exchange.connection().logName());
      try {
        exchange.checkDeadline(now);
      } finally {
        MDC.remove(ProxyServer.MDC_CONNECTION);
      }
    }
    trimIdle(now);
  }

  /**
   * Closes the idle upstream connections past their keep-alive or to an endpoint a reload
   * removed, and, past the idle cap, the least recently used once unused for
   * {@link UpstreamPool#TRIM_AFTER_NANOS}. Emptied queues go too: a forward proxy's origins are
   * as many as its clients name.
   */
  private void trimIdle(long now) {
    int cap = server.configuration().maxIdleUpstreamConnections();
    UpstreamPool pool = server.upstreamPool();
    idle.entrySet().removeIf(entry -> {
      ArrayDeque<LoopUpstream> waiting = entry.getValue();
      boolean retired = pool.isRetired(entry.getKey());
      waiting.removeIf(upstream -> {
        if (!retired && now - upstream.idleSinceNanos <= upstream.maxIdleNanos) {
          return false;
        }
        upstream.close();
        return true;
      });
      while (waiting.size() > cap && now - waiting.peekLast().idleSinceNanos >= UpstreamPool.TRIM_AFTER_NANOS) {
        waiting.pollLast().close();
      }
      return waiting.isEmpty();
    });
  }

  /**
   * Closes {@code channel}, whose key is cancelled, at the end of this turn, once the selector has
   * dropped the key: a channel closed while still registered makes the JDK ask for its
   * {@code SO_LINGER} and shut its output down first, then close it at the next select, two
   * system calls more for every connection a client opens for one request (and every upstream
   * connection that ends, as one that answers {@code Connection: close}). Any other thread,
   * or a loop that stopped, closes it at once.
   */
  void closeEnded(SocketChannel channel) throws IOException {
    if (Thread.currentThread() == thread && open) {
      closing.add(channel);
    } else {
      channel.close();
    }
  }

  private void closeEnded() {
    for (SocketChannel channel : closing) {
      try {
        channel.close();
      } catch (IOException ignored) {
        // The connection is over either way.
      }
    }
    closing.clear();
  }

  /** On this thread, once stopped: closes what it still holds. */
  private void releaseAll() {
    for (LoopExchange exchange : List.copyOf(running)) {
      exchange.abort(new IOException("the proxy stopped"));
    }
    idle.values().forEach(waiting -> waiting.forEach(LoopUpstream::close));
    idle.clear();
    for (SelectionKey key : selector.keys()) {
      if (key.attachment() instanceof ClientConnection connection) {
        connection.endOnLoop();
      }
    }
    endArrivals();
    closeEnded();
    executorHandOver.abandon();
  }

  /** Stops the thread; the connections parked here are ended, in-flight exchanges cut. */
  @Override
  public void close() {
    open = false;
    SelectorThreads.stop(selector, thread);
  }
}
