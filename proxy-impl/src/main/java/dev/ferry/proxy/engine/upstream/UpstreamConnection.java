package dev.ferry.proxy.engine.upstream;

import dev.ferry.proxy.engine.io.ConnectionBuffers;
import dev.ferry.proxy.engine.io.ConnectionInput;
import dev.ferry.proxy.engine.io.ConnectionOutput;
import dev.ferry.proxy.engine.io.IoWatchdog;
import dev.ferry.proxy.engine.tls.BeneathTlsSocket;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicBoolean;

/** One connection from the proxy to an upstream, with its buffered streams. */
public final class UpstreamConnection implements Closeable {
  private static final int BUFFER_SIZE = ConnectionBuffers.SIZE;

  private final Socket socket;
  /**
   * The plain socket under a TLS one (else the same): a TLS socket counts as available only the
   * bytes it has decrypted, not those waiting in the kernel.
   */
  private final Socket beneath;
  private final ConnectionInput input;
  private final ConnectionOutput output;
  private final UpstreamKey key;
  /** The key's {@code host:port}, made once: every exchange on the connection reports it. */
  private final String authority;
  private final AtomicBoolean closed = new AtomicBoolean();
  /** Run once at the first close; guarded by {@code this} until then. */
  private Runnable onClose = () -> {};
  private long idleSinceNanos;
  private long maxIdleNanos = Long.MAX_VALUE;
  private boolean reused;
  /** Set when what was sent leaves the connection's state in doubt; see {@link #forgoReuse}. */
  private boolean forgoReuse;

  /** @param beneath the plain socket under a TLS {@code socket}; else {@code socket} itself */
  UpstreamConnection(Socket socket, Socket beneath, UpstreamKey key, IoWatchdog watchdog) throws IOException {
    this.socket = socket;
    this.beneath = beneath;
    this.key = key;
    this.authority = key.authority();
    this.input = new ConnectionInput(socket, BUFFER_SIZE, watchdog);
    this.output = new ConnectionOutput(socket, BUFFER_SIZE, watchdog);
  }

  /**
   * True if the upstream closed its TLS connection without {@code close_notify}: what it sent up
   * to the close may have been cut short (see {@link BeneathTlsSocket}).
   */
  boolean closedWithoutCloseNotify() {
    return beneath instanceof BeneathTlsSocket tls && tls.endReadWithoutCloseNotify();
  }

  public UpstreamKey key() {
    return key;
  }

  /** {@code host:port} of {@link #key()}, as summaries and logs report it. */
  public String authority() {
    return authority;
  }

  public Socket socket() {
    return socket;
  }

  public ConnectionInput input() {
    return input;
  }

  public ConnectionOutput output() {
    return output;
  }

  /** The address actually connected to. */
  public InetAddress remoteAddress() {
    return ((InetSocketAddress) socket.getRemoteSocketAddress()).getAddress();
  }

  /**
   * Keeps this connection out of the pool after its exchange: a TLS upstream may have answered
   * while the body waited for the client, which the proxy cannot tell from a session ticket; an
   * upstream sent content on a GET may have left it unread.
   */
  public void forgoReuse() {
    forgoReuse = true;
  }

  /** False once the connection may not carry another request, whatever its answer says. */
  public boolean reusable() {
    return !forgoReuse && !output.yieldedToAnswer();
  }

  /** True if this connection served an earlier request before the current one. */
  public boolean reused() {
    return reused;
  }

  /**
   * Honours the upstream's {@code Keep-Alive: timeout=N} (seconds): the connection is dropped
   * before the upstream would drop it, a second early (half the time for N below 2).
   */
  void keepAliveTimeout(long seconds) {
    maxIdleNanos = Math.min(maxIdleNanos, keepAliveNanos(seconds));
  }

  /** How long a connection is kept idle for an upstream's {@code Keep-Alive: timeout=seconds}. */
  public static long keepAliveNanos(long seconds) {
    return seconds >= 2 ? (seconds - 1) * 1_000_000_000L : seconds * 500_000_000L;
  }

  void markIdle(long nowNanos) throws IOException {
    idleSinceNanos = nowNanos;
    reused = true;
    // Flush only: pooled connections are few (capped per upstream) and busy ones would
    // otherwise reallocate their buffer on every request.
    output.flush();
  }

  /** True if the connection has been idle longer than both the pool and the upstream allow. */
  boolean expired(long nowNanos, long poolKeepAliveNanos) {
    return nowNanos - idleSinceNanos > Math.min(poolKeepAliveNanos, maxIdleNanos);
  }

  long idleNanos(long nowNanos) {
    return nowNanos - idleSinceNanos;
  }

  /** A pooled connection is usable if open and the upstream sent nothing unasked meanwhile. */
  boolean looksUsable() {
    return !socket.isClosed() && !input.hasBuffered();
  }

  /**
   * True if bytes nobody asked for wait in the socket (a second response, a late excess of the
   * last). Under TLS, any record waiting in the kernel counts: one that is no application data
   * (an alert, a late ticket) costs only a new connection. Records the JDK's TLS socket read
   * ahead together with the last answer are beyond sight until a read (see the README's limits).
   */
  boolean hasUnaskedBytes() {
    if (input.socketAvailable() > 0) {
      return true;
    }
    try {
      return beneath != socket && beneath.getInputStream().available() > 0;
    } catch (IOException e) {
      return true;
    }
  }

  /**
   * Checks, without waiting more than a millisecond, that the upstream has neither closed the
   * connection (FIN or RST) nor sent bytes nobody asked for (a body after a HEAD response).
   */
  boolean probeAlive() {
    return input.probeQuiet();
  }

  /**
   * Runs {@code action} once, when this connection is first closed, after the actions registered
   * before it; at once if it is closed already.
   */
  public void whenClosed(Runnable action) {
    synchronized (this) {
      if (!closed.get()) {
        Runnable before = onClose;
        onClose = () -> {
          before.run();
          action.run();
        };
        return;
      }
    }
    action.run();
  }

  @Override
  public void close() {
    Connector.closeQuietly(socket);
    Runnable actions;
    synchronized (this) {
      if (!closed.compareAndSet(false, true)) {
        return;
      }
      actions = onClose;
    }
    actions.run();
  }
}
