package dev.ferry.proxy.engine.upstream;

import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.LogValues;
import dev.ferry.proxy.engine.http1.ProxyFailure;
import dev.ferry.proxy.engine.io.IoWatchdog;
import dev.ferry.proxy.engine.tls.BeneathTlsSocket;
import dev.ferry.proxy.engine.tls.UpstreamHandshake;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.channels.SocketChannel;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens connections to upstreams: resolves the host once, lets the {@link DestinationCheck}
 * decide on every resolved address, connects to those same addresses in turn (so a second DNS
 * answer cannot rebind the name to somewhere else), and completes the TLS handshake for https.
 * TCP connect and handshake share one {@code connectTimeout} budget.
 *
 * <p>Failures: a connect timeout is 504 (as nginx answers); a refused connection, an unknown
 * host, and a failed or timed-out handshake are 502, each with a detail naming the cause.
 */
public final class Connector {
  private static final Logger log = LoggerFactory.getLogger(Connector.class);

  private final long connectTimeoutNanos;
  private final UpstreamHandshake tls;
  private final IoWatchdog watchdog;

  /** @param tls the handshake with https upstreams */
  public Connector(Duration connectTimeout, UpstreamHandshake tls, IoWatchdog watchdog) {
    this.connectTimeoutNanos = connectTimeout.toNanos();
    this.tls = tls;
    this.watchdog = watchdog;
  }

  UpstreamConnection open(UpstreamKey key, DestinationCheck check, boolean tunnel)
      throws HttpFailureException {
    check.checkUnresolved(key.host(), key.port(), tunnel);
    List<InetAddress> addresses = resolve(key);
    check.check(key.host(), key.port(), addresses, tunnel);
    long deadline = System.nanoTime() + connectTimeoutNanos;
    IOException last = null;
    for (InetAddress address : addresses) {
      Socket socket;
      try {
        socket = newSocket(key.tls());
      } catch (IOException e) {
        // No descriptor left, most likely: no other address would fare better.
        throw new HttpFailureException(ProxyFailure.UPSTREAM_UNREACHABLE, key.host(), e);
      }
      try {
        socket.setTcpNoDelay(true);
        socket.connect(new InetSocketAddress(address, key.port()), remainingMillis(deadline));
      } catch (SocketTimeoutException e) {
        closeQuietly(socket);
        log.warn("server_connect_failed host={} port={} address={} error=timeout", key.host(),
            key.port(), address.getHostAddress());
        throw new HttpFailureException(ProxyFailure.UPSTREAM_CONNECT_TIMEOUT, "connecting to " + key.host(), e);
      } catch (IOException e) {
        closeQuietly(socket);
        throwIfStopped(e, key);
        log.warn("server_connect_failed host={} port={} address={} error={}", key.host(),
            key.port(), address.getHostAddress(), LogValues.quoted(e.getMessage()));
        last = e;
        continue;
      }
      Socket connected = key.tls() ? handshake(socket, key, deadline) : socket;
      try {
        return new UpstreamConnection(connected, socket, key, watchdog);
      } catch (IOException e) {
        closeQuietly(connected);
        last = e;
      }
    }
    throw new HttpFailureException(ProxyFailure.UPSTREAM_UNREACHABLE, key.authority(), last);
  }

  /**
   * A plain connection gets a channel's socket: its reads block without SO_TIMEOUT under the
   * {@link IoWatchdog} (one system call per read; a socket connected with a timeout by
   * {@code Socket.connect} stays non-blocking and polls before every read), and a CONNECT
   * tunnel's channel can be handed to the {@code TunnelRelay}. A TLS connection reads under
   * SO_TIMEOUT through its SSL socket, which on Java 17 costs a channel's socket two mode
   * switches per read and a plain one none.
   */
  private static Socket newSocket(boolean tls) throws IOException {
    return tls ? new BeneathTlsSocket() : SocketChannel.open().socket();
  }

  /** Resolves {@code key}'s host and runs {@code check} on it, as {@link #open} would, without connecting. */
  static void vet(UpstreamKey key, DestinationCheck check) throws HttpFailureException {
    check.checkUnresolved(key.host(), key.port(), false);
    check.check(key.host(), key.port(), resolve(key), false);
  }

  /** Looks {@code key}'s host up (the JDK's cache first); an unknown host is 502. */
  static List<InetAddress> resolve(UpstreamKey key) throws HttpFailureException {
    try {
      return List.of(InetAddress.getAllByName(key.host()));
    } catch (UnknownHostException e) {
      log.warn("server_connect_failed host={} port={} error=unknown_host", key.host(), key.port());
      throw new HttpFailureException(ProxyFailure.UPSTREAM_UNREACHABLE, key.host() + " (unknown host)", e);
    }
  }

  private Socket handshake(Socket plain, UpstreamKey key, long deadline) throws HttpFailureException {
    try {
      // The handshake blocks on reads: bounded by what is left of the connect budget.
      return tls.handshake(plain, key.host(), key.port(), deadline);
    } catch (IOException e) {
      closeQuietly(plain);
      throwIfStopped(e, key);
      String reason = UpstreamHandshake.failure(e);
      log.warn("server_connect_failed host={} port={} error=tls reason={}", key.host(), key.port(),
          LogValues.quoted(reason));
      throw new HttpFailureException(ProxyFailure.UPSTREAM_UNREACHABLE,
          "TLS handshake with " + key.host() + " failed: " + reason, e);
    }
  }

  /**
   * A connect or handshake the proxy's stop broke (it interrupts the threads it cuts) is the
   * stop's failure: counted as an unreachable upstream it would be retried on another endpoint
   * and held against this one's health.
   */
  private static void throwIfStopped(IOException e, UpstreamKey key) throws HttpFailureException {
    if (Forwarder.stopping(e)) {
      throw new HttpFailureException(ProxyFailure.PROXY_STOPPED,
          "the proxy stopped while connecting to " + key.host(), e);
    }
  }

  private static int remainingMillis(long deadline) throws SocketTimeoutException {
    long remaining = (deadline - System.nanoTime()) / 1_000_000;
    if (remaining <= 0) {
      throw new SocketTimeoutException("connect timeout passed");
    }
    return (int) Math.min(Integer.MAX_VALUE, remaining);
  }

  /**
   * Closes {@code socket}, without waiting for a TLS peer's answer to close_notify (one that sent
   * none and keeps its connection open held a closing tunnel for a read timeout; probe tunnels2).
   */
  public static void closeQuietly(Socket socket) {
    if (socket instanceof SSLSocket && !socket.isClosed()) {
      try {
        // Closing TLS 1.3 waits up to SO_TIMEOUT for the peer's answer to close_notify: a
        // discarded connection, often one whose peer stopped answering, must not wait again.
        socket.setSoTimeout(1);
      } catch (IOException ignored) {
        // Closed beneath meanwhile: the close below has nothing to wait for.
      }
    }
    try {
      socket.close();
    } catch (IOException ignored) {
      // Nothing to do: the socket is being discarded.
    }
  }
}
