package dev.ferry.proxy.engine.tunnel;

import dev.ferry.proxy.engine.http1.LogValues;
import dev.ferry.proxy.engine.io.SelectorThreads;
import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Relays the bytes of tunnels (after CONNECT or a 101 upgrade) between plain client and upstream
 * sockets on one selector thread, so that an open tunnel, busy or idle, holds no thread: a
 * browser's dozens of CONNECT tunnels or a gateway's WebSockets do not use up a bounded pool.
 * TLS sockets cannot be relayed here (their bytes pass through an SSL engine); those tunnels
 * run as a {@link Tunnel}, on two threads.
 *
 * <p>Non-blocking and level-triggered: a readable side is read into one shared buffer and
 * written straight to the other; what the other side cannot take yet waits in a buffer of its
 * own, and the readable side is not read again until that has gone (back-pressure, so a tunnel
 * buffers at most one read). An end of stream is passed on as a half-close once everything
 * before it is written. A tunnel ends when both directions have ended, when nothing has passed
 * either way for the idle timeout and nothing waits to be written (a slow reader's tunnel is not
 * idle: its bytes wait for it, under the write timeout), when a write makes no progress for the
 * write timeout, on any error, or when its owner closes a socket; then both sockets are closed
 * and its {@link Listener} is told, once. Deadlines are checked four times a second.
 *
 * <p>While the proxy stops ({@link #drain}), a tunnel at rest is closed like an idle keep-alive
 * connection instead of being held for the stop's grace: the upstream spoke last, nothing has
 * passed for {@link #REST_NANOS} and nothing waits to be written. A request sent through a
 * tunnel leaves it busy until the answer has come and gone quiet.
 */
public final class TunnelRelay implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TunnelRelay.class);
  private static final long SCAN_NANOS = 250_000_000L;
  private static final int READ_SIZE = 64 * 1024;
  static final long REST_NANOS = 500_000_000L;

  /** Told once when a tunnel has ended and both its sockets are closed. */
  @FunctionalInterface
  public interface Listener {
    /**
     * @param toUpstream bytes relayed from the client to the upstream
     * @param toClient bytes relayed from the upstream to the client
     * @param writeTimedOut true if the tunnel ended because a side stopped taking bytes
     */
    void ended(long toUpstream, long toClient, boolean writeTimedOut);
  }

  private final Selector selector;
  private final long idleNanos;
  private final long writeNanos;
  private final Thread thread;
  /** Only the relay's thread reads into it; heap, so no native memory waits on the GC. */
  private final ByteBuffer scratch = ByteBuffer.allocate(READ_SIZE);
  private final Queue<Pair> arrivals = new ConcurrentLinkedQueue<>();
  /** The relay thread's own; read by {@link #close} only after that thread has ended. */
  private final Set<Pair> open = new HashSet<>();
  private volatile boolean running = true;
  private volatile boolean draining;
  /** Set by {@link #drain}: the next turn of the loop scans at once. */
  private volatile boolean scanNow;
  private long lastScan = System.nanoTime();

  /**
   * @param idleNanos a tunnel through which nothing passed for this long is closed
   * @param writeNanos a side that takes no byte for this long while bytes wait for it is closed
   */
  public TunnelRelay(ThreadFactory threads, long idleNanos, long writeNanos) throws IOException {
    this.selector = Selector.open();
    this.idleNanos = idleNanos;
    this.writeNanos = writeNanos;
    this.thread = threads.newThread(this::loop);
  }

  public void start() {
    thread.start();
  }

  /**
   * Takes over a tunnel: from now on the relay owns both channels (it makes them non-blocking
   * and closes them at the end). Bytes the caller has already read from a side go out first.
   *
   * @param fromClient bytes read from the client and not yet sent upstream; the relay keeps the
   *     array
   * @param fromUpstream bytes read from the upstream and not yet sent to the client; kept too
   */
  public void relay(SocketChannel client, byte[] fromClient, SocketChannel upstream,
      byte[] fromUpstream, Listener listener) {
    Pair pair = new Pair(new Side(client), new Side(upstream), listener);
    pair.upstream.queue(fromClient);
    pair.client.queue(fromUpstream);
    pair.upstreamSpokeLast = fromClient.length == 0;
    arrivals.add(pair);
    selector.wakeup();
    if (!running) {
      // Closed meanwhile: close() may already have drained the queue.
      drainArrivals();
    }
  }

  /** The proxy stops: from now on, tunnels at rest are closed (see the class comment). */
  public void drain() {
    draining = true;
    scanNow = true;
    selector.wakeup();
  }

  private void loop() {
    try {
      while (running) {
        selector.select(SCAN_NANOS / 1_000_000);
        register();
        for (Iterator<SelectionKey> it = selector.selectedKeys().iterator(); it.hasNext(); ) {
          SelectionKey key = it.next();
          it.remove();
          Side side = (Side) key.attachment();
          if (!side.pair.ended) {
            handle(side, key);
          }
        }
        long now = System.nanoTime();
        if (now - lastScan >= SCAN_NANOS || scanNow) {
          scanNow = false;
          lastScan = now;
          scan(now);
        }
      }
    } catch (IOException | ClosedSelectorException e) {
      if (running) {
        log.error("tunnel_relay_failed error={}", LogValues.quoted(e.toString()));
      }
    } finally {
      new ArrayList<>(open).forEach(pair -> end(pair, false));
    }
  }

  private void register() {
    Pair pair;
    while ((pair = arrivals.poll()) != null) {
      open.add(pair);
      try {
        pair.client.register(selector);
        pair.upstream.register(selector);
        pair.client.updateInterest();
        pair.upstream.updateInterest();
      } catch (IOException | RuntimeException e) {
        // A socket closed meanwhile (the client left, the proxy stops).
        end(pair, false);
      }
    }
  }

  private void handle(Side side, SelectionKey key) {
    Pair pair = side.pair;
    try {
      if (!key.isValid()) {
        end(pair, false);
        return;
      }
      if (key.isWritable()) {
        side.flush();
      }
      if (key.isReadable()) {
        read(side);
      }
      if (pair.client.done() && pair.upstream.done()) {
        end(pair, false);
        return;
      }
      pair.client.updateInterest();
      pair.upstream.updateInterest();
    } catch (IOException | RuntimeException e) {
      end(pair, false);
    }
  }

  /** Reads what {@code side} sent and writes it on to its peer, keeping what the peer refused. */
  private void read(Side side) throws IOException {
    if (side.peer.pending != null) {
      return;
    }
    scratch.clear();
    int n = side.channel.read(scratch);
    if (n < 0) {
      side.inputEnded = true;
      if (side.peer.pending == null) {
        side.peer.shutOutput();
      }
      return;
    }
    if (n == 0) {
      return;
    }
    side.received += n;
    side.pair.lastActivityNanos = System.nanoTime();
    side.pair.upstreamSpokeLast = side == side.pair.upstream;
    scratch.flip();
    side.peer.channel.write(scratch);
    if (scratch.hasRemaining()) {
      side.peer.queue(scratch);
    }
  }

  private void scan(long now) {
    for (Pair pair : new ArrayList<>(open)) {
      if (!pair.client.channel.isOpen() || !pair.upstream.channel.isOpen()) {
        end(pair, false);
      } else if (pair.client.stalled(now, writeNanos) || pair.upstream.stalled(now, writeNanos)) {
        pair.client.resetIfStalled(now, writeNanos);
        pair.upstream.resetIfStalled(now, writeNanos);
        end(pair, true);
      } else if (pair.idle(now, idleNanos) || draining && pair.atRest(now)) {
        end(pair, false);
      }
    }
  }

  private void end(Pair pair, boolean writeTimedOut) {
    if (pair.ended) {
      return;
    }
    pair.ended = true;
    open.remove(pair);
    closeQuietly(pair.client.channel);
    closeQuietly(pair.upstream.channel);
    try {
      pair.listener.ended(pair.client.received, pair.upstream.received, writeTimedOut);
    } catch (RuntimeException e) {
      log.error("tunnel_listener_failed error={}", LogValues.quoted(e.toString()), e);
    }
  }

  private void drainArrivals() {
    Pair pair;
    while ((pair = arrivals.poll()) != null) {
      end(pair, false);
    }
  }

  /** Stops the relay's thread and ends every tunnel still open. */
  @Override
  public void close() {
    running = false;
    SelectorThreads.stop(selector, thread);
    drainArrivals();
  }

  private static void closeQuietly(SocketChannel channel) {
    try {
      channel.close();
    } catch (IOException ignored) {
      // Best effort: the tunnel is over.
    }
  }

  private static final class Pair {
    final Side client;
    final Side upstream;
    final Listener listener;
    long lastActivityNanos = System.nanoTime();
    /** True until the client sends something: the proxy's 200 (or the 101) was the last word. */
    boolean upstreamSpokeLast = true;
    boolean ended;

    Pair(Side client, Side upstream, Listener listener) {
      this.client = client;
      this.upstream = upstream;
      this.listener = listener;
      client.pair = this;
      upstream.pair = this;
      client.peer = upstream;
      upstream.peer = client;
    }

    boolean atRest(long now) {
      return upstreamSpokeLast && idle(now, REST_NANOS);
    }

    /**
     * Nothing passed for {@code nanos} and nothing waits to be written: while bytes wait for a
     * side, the write timeout watches it instead (probe tunnelflake F1: a client reading a large
     * answer slowly was cut, with a clean end, one idle timeout after the relay stopped reading
     * the upstream for it).
     */
    boolean idle(long now, long nanos) {
      return client.pending == null && upstream.pending == null && now - lastActivityNanos >= nanos;
    }
  }

  /** One socket of a tunnel, and the bytes waiting to be written to it. */
  private static final class Side {
    final SocketChannel channel;
    Pair pair;
    Side peer;
    SelectionKey key;
    /** Bytes read from the peer that this side's socket has not taken yet; null when none. */
    ByteBuffer pending;
    /** When a write to this side last made progress, while bytes wait for it. */
    long progressNanos;
    boolean inputEnded;
    boolean outputShut;
    long received;

    Side(SocketChannel channel) {
      this.channel = channel;
    }

    void register(Selector selector) throws IOException {
      channel.configureBlocking(false);
      key = channel.register(selector, 0, this);
    }

    /** Takes {@code bytes} as they are: the caller hands them over and keeps no reference. */
    void queue(byte[] bytes) {
      if (bytes.length > 0) {
        pending(ByteBuffer.wrap(bytes));
      }
    }

    /** Copies what is left of {@code bytes}, the relay's shared read buffer. */
    void queue(ByteBuffer bytes) {
      ByteBuffer copy = ByteBuffer.allocate(bytes.remaining());
      pending(copy.put(bytes).flip());
    }

    private void pending(ByteBuffer bytes) {
      pending = bytes;
      progressNanos = System.nanoTime();
    }

    void flush() throws IOException {
      if (pending == null) {
        return;
      }
      if (channel.write(pending) > 0) {
        progressNanos = System.nanoTime();
        pair.lastActivityNanos = progressNanos;
      }
      if (!pending.hasRemaining()) {
        pending = null;
        if (peer.inputEnded) {
          shutOutput();
        }
      }
    }

    void shutOutput() throws IOException {
      if (!outputShut) {
        outputShut = true;
        channel.shutdownOutput();
      }
    }

    /** Read while the peer can take more; write while bytes wait. */
    void updateInterest() {
      int ops = (inputEnded || peer.pending != null ? 0 : SelectionKey.OP_READ)
          | (pending != null ? SelectionKey.OP_WRITE : 0);
      if (key.interestOps() != ops) {
        key.interestOps(ops);
      }
    }

    /** True when this side has sent its end and everything for it has been written. */
    boolean done() {
      return inputEnded && pending == null && outputShut;
    }

    boolean stalled(long now, long writeNanos) {
      return pending != null && now - progressNanos >= writeNanos;
    }

    /**
     * Makes the coming close of a stalled side a reset, as ConnectionOutput does for a write
     * timeout: what it would not take is dropped rather than kept by the kernel.
     */
    void resetIfStalled(long now, long writeNanos) {
      if (stalled(now, writeNanos)) {
        try {
          channel.setOption(StandardSocketOptions.SO_LINGER, 0);
        } catch (IOException ignored) {
          // Closed already: nothing waits to be sent.
        }
      }
    }
  }
}
