package dev.ferry.proxy.engine.upstream;

import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.ProxyFailure;
import dev.ferry.proxy.engine.io.ConnectionInput;
import dev.ferry.proxy.engine.io.ConnectionOutput;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One connection from the proxy to an upstream, with its buffered streams. */
public final class UpstreamConnection implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(UpstreamConnection.class);
  private static final int BUFFER_SIZE = 16 * 1024;

  private final Socket socket;
  private final ConnectionInput input;
  private final ConnectionOutput output;
  private final UpstreamKey key;
  private final AtomicBoolean closed = new AtomicBoolean();
  private Runnable onClose = () -> {};
  private long idleSinceNanos;
  private boolean reused;

  private UpstreamConnection(Socket socket, UpstreamKey key) throws IOException {
    this.socket = socket;
    this.key = key;
    this.input = new ConnectionInput(socket, BUFFER_SIZE);
    this.output = new ConnectionOutput(socket, BUFFER_SIZE);
  }

  /**
   * Opens a connection, with TLS for https.
   *
   * @throws HttpFailureException UPSTREAM_UNREACHABLE (502) or UPSTREAM_TIMEOUT (504)
   */
  public static UpstreamConnection open(UpstreamKey key, Duration connectTimeout)
      throws HttpFailureException {
    Socket socket = new Socket();
    try {
      InetSocketAddress address = new InetSocketAddress(key.host(), key.port());
      if (address.isUnresolved()) {
        throw new UnknownHostException(key.host());
      }
      socket.setTcpNoDelay(true);
      socket.connect(address, (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()));
      Socket connected = key.tls() ? startTls(socket, key) : socket;
      return new UpstreamConnection(connected, key);
    } catch (SocketTimeoutException e) {
      closeQuietly(socket);
      log.info("server_connect_failed host={} port={} error=timeout", key.host(), key.port());
      throw new HttpFailureException(ProxyFailure.UPSTREAM_TIMEOUT,
          "connecting to " + key.host(), e);
    } catch (UnknownHostException e) {
      closeQuietly(socket);
      log.info("server_connect_failed host={} port={} error=unknown_host", key.host(), key.port());
      throw new HttpFailureException(ProxyFailure.UPSTREAM_UNREACHABLE,
          key.host() + " (unknown host)", e);
    } catch (IOException e) {
      closeQuietly(socket);
      log.info("server_connect_failed host={} port={} error=\"{}\"", key.host(), key.port(), e.getMessage());
      throw new HttpFailureException(ProxyFailure.UPSTREAM_UNREACHABLE,
          key.host(), e);
    }
  }

  private static Socket startTls(Socket plain, UpstreamKey key) throws IOException {
    SSLSocketFactory factory = (SSLSocketFactory) SSLSocketFactory.getDefault();
    SSLSocket tls = (SSLSocket) factory.createSocket(plain, key.host(), key.port(), true);
    SSLParameters parameters = tls.getSSLParameters();
    parameters.setEndpointIdentificationAlgorithm("HTTPS");
    tls.setSSLParameters(parameters);
    tls.startHandshake();
    return tls;
  }

  public UpstreamKey key() {
    return key;
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

  /** True if this connection served an earlier request before the current one. */
  public boolean reused() {
    return reused;
  }

  void markIdle(long nowNanos) throws IOException {
    idleSinceNanos = nowNanos;
    reused = true;
    // Flush only: pooled connections are few (capped per upstream) and busy ones would
    // otherwise reallocate their buffer on every request.
    output.flush();
  }

  long idleSinceNanos() {
    return idleSinceNanos;
  }

  /** A pooled connection is usable if open and the upstream sent nothing unasked meanwhile. */
  boolean looksUsable() {
    return !socket.isClosed() && !input.hasBuffered();
  }

  /** Runs {@code action} once, when this connection is first closed. */
  void onClose(Runnable action) {
    this.onClose = action;
  }

  @Override
  public void close() {
    closeQuietly(socket);
    if (closed.compareAndSet(false, true)) {
      onClose.run();
    }
  }

  static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException ignored) {
      // Nothing to do: the socket is being discarded.
    }
  }
}
