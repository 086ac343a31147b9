package dev.ferry.proxy.engine;

import dev.ferry.proxy.engine.io.ConnectionInput;
import dev.ferry.proxy.engine.upstream.UpstreamConnection;
import dev.ferry.proxy.engine.upstream.UpstreamKey;
import dev.ferry.proxy.engine.upstream.UpstreamPool;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;

/**
 * A plain upstream connection of one {@link EventLoop}'s own, in non-blocking mode. While idle it
 * stays registered for reading, so that bytes nobody asked for, or the upstream's close, show up
 * as readiness and it is closed then, not handed to the next request (the blocking pool asks the
 * kernel with {@code FIONREAD} at every reuse instead).
 */
final class LoopUpstream {
  private static final int BUFFER_BYTES = 16 * 1024;

  final UpstreamKey key;
  final SocketChannel channel;
  final SelectionKey selection;
  /** Where the connection is counted with the proxy's others. */
  private final UpstreamPool counts;
  /** The loop that closes it ({@link EventLoop#closeEnded}). */
  private final EventLoop loop;
  private boolean closed;
  private boolean idle;
  /** Created once connected: a socket's streams exist only then. */
  private ConnectionInput in;
  private boolean connected;
  /** True once it has carried an exchange: a failure before any answer may then be a stale close. */
  private boolean reused;
  /** When it went idle, for the upstream keep-alive. */
  long idleSinceNanos;
  /** The longest it may stay idle: the proxy's keep-alive, or less if the upstream said so. */
  long maxIdleNanos;
  /** The exchange it serves; null while idle. */
  LoopExchange exchange;

  private LoopUpstream(UpstreamKey key, SocketChannel channel, EventLoop loop, Selector selector,
      UpstreamPool counts) throws IOException {
    this.key = key;
    this.channel = channel;
    this.loop = loop;
    this.counts = counts;
    this.selection = channel.register(selector, 0, this);
  }

  /** Opens a connection to {@code address}; it may finish connecting later (OP_CONNECT). */
  static LoopUpstream open(UpstreamKey key, InetSocketAddress address, EventLoop loop, Selector selector,
      UpstreamPool counts, long maxIdleNanos) throws IOException {
    SocketChannel channel = SocketChannel.open();
    try {
      channel.configureBlocking(false);
      channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
      LoopUpstream upstream = new LoopUpstream(key, channel, loop, selector, counts);
      upstream.maxIdleNanos = maxIdleNanos;
      if (channel.connect(address)) {
        upstream.markConnected();
      }
      return upstream;
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  /** Completes a pending connect; throws as the connect failed. */
  void finishConnect() throws IOException {
    if (channel.finishConnect()) {
      markConnected();
    }
  }

  private void markConnected() throws IOException {
    connected = true;
    counts.loopOpened();
    in = new ConnectionInput(channel.socket(), BUFFER_BYTES);
  }

  boolean connected() {
    return connected;
  }

  ConnectionInput input() {
    return in;
  }

  boolean reused() {
    return reused;
  }

  /** Goes idle after an exchange: watched for reading until the next takes it. */
  void idle(long now) {
    exchange = null;
    idle = true;
    counts.loopIdle(1);
    reused = true;
    idleSinceNanos = now;
    in.dropBuffer();
    selection.interestOps(SelectionKey.OP_READ);
  }

  /**
   * Honours the upstream's {@code Keep-Alive: timeout=N} (seconds), as the blocking pool does.
   */
  void keepAliveTimeout(long seconds) {
    maxIdleNanos = Math.min(maxIdleNanos, UpstreamConnection.keepAliveNanos(seconds));
  }

  /**
   * True if nothing came while it was idle: a read (into the loop's {@code scratch}, never looked
   * at) that finds nothing, as the blocking pool asks
   * the kernel before each reuse. Bytes not yet seen by the loop's selector (the rest of an
   * upstream's excess answer, or its close) would otherwise be read as the next answer.
   */
  boolean quiet(ByteBuffer scratch) {
    try {
      return channel.read(scratch.clear()) == 0;
    } catch (IOException e) {
      return false;
    }
  }

  /** Taken by an exchange from the idle ones. */
  void taken(LoopExchange by) {
    exchange = by;
    idle = false;
    counts.loopIdle(-1);
  }

  void interest(int ops) {
    selection.interestOps(ops);
  }

  void close() {
    if (closed || !channel.isOpen()) {
      return;
    }
    closed = true;
    if (idle) {
      idle = false;
      counts.loopIdle(-1);
    }
    if (connected) {
      counts.loopClosed();
    }
    selection.cancel();
    try {
      loop.closeEnded(channel); // once the selector dropped its key, as a client's
    } catch (IOException ignored) {
      // closed either way
    }
    if (in != null) {
      in.release();
      in.recycle(); // its buffer back to the pool: the loop was its only user
    }
  }
}
