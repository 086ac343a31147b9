package dev.ferry.proxy.engine.tunnel;

import dev.ferry.proxy.engine.upstream.Connector;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Relays bytes both ways between the client and an upstream, after CONNECT or a 101 upgrade,
 * until both directions have ended. One direction runs on the calling thread, the other on a
 * thread from {@code threads}. An end of stream on one side is passed on as a half-close; the
 * tunnel closes when nothing has passed either way for {@code idleTimeoutMillis} and no write is
 * under way. For tunnels with a TLS socket on either side; plain ones go through the
 * {@link TunnelRelay}, which needs no thread per tunnel.
 */
public final class Tunnel {
  private static final int BUFFER_SIZE = 16 * 1024;

  private final Socket client;
  private final InputStream clientIn;
  private final OutputStream clientOut;
  private final Socket upstream;
  private final InputStream upstreamIn;
  private final OutputStream upstreamOut;
  private final int idleTimeoutMillis;
  private final AtomicLong lastActivity = new AtomicLong(System.nanoTime());
  private final AtomicLong toUpstream = new AtomicLong();
  private final AtomicLong toClient = new AtomicLong();
  /** True until the client sends something: the proxy's 200 (or the 101) was the last word. */
  private volatile boolean upstreamSpokeLast = true;
  /** Writes under way, each from a read to its flush. */
  private final AtomicInteger writing = new AtomicInteger();

  public Tunnel(Socket client, InputStream clientIn, OutputStream clientOut, Socket upstream,
      InputStream upstreamIn, OutputStream upstreamOut, int idleTimeoutMillis) {
    this.client = client;
    this.clientIn = clientIn;
    this.clientOut = clientOut;
    this.upstream = upstream;
    this.upstreamIn = upstreamIn;
    this.upstreamOut = upstreamOut;
    this.idleTimeoutMillis = idleTimeoutMillis;
  }

  /**
   * Relays until both directions end, then closes the upstream socket. A direction ends at its
   * end of stream, or when nothing has passed either way for the idle timeout; the other goes
   * on while bytes pass (RFC 9110 §9.3.6: what the open side sends is still delivered).
   */
  public void run(ThreadFactory threads) throws InterruptedException {
    Thread downstream = threads.newThread(() -> pump(upstreamIn, clientOut, client, toClient));
    downstream.start();
    pump(clientIn, upstreamOut, upstream, toUpstream);
    downstream.join();
    Connector.closeQuietly(upstream);
  }

  /**
   * True if the tunnel is at rest as the {@link TunnelRelay} means it (a stopping proxy closes
   * such a tunnel like an idle connection): the upstream spoke last, nothing has passed for
   * {@link TunnelRelay#REST_NANOS}, and no write is under way.
   */
  public boolean atRest(long nowNanos) {
    return upstreamSpokeLast && writing.get() == 0 && nowNanos - lastActivity.get() >= TunnelRelay.REST_NANOS;
  }

  /** Bytes sent from the client to the upstream. */
  public long bytesToUpstream() {
    return toUpstream.get();
  }

  /** Bytes sent from the upstream to the client. */
  public long bytesToClient() {
    return toClient.get();
  }

  private void pump(InputStream in, OutputStream out, Socket destination, AtomicLong counter) {
    byte[] buffer = new byte[BUFFER_SIZE];
    try {
      while (true) {
        int n;
        try {
          n = in.read(buffer);
        } catch (SocketTimeoutException e) {
          // A write under way in the other direction (a slow reader taking a large answer) is
          // no idleness: that side sent no end (probe tunnelflake F2), and the write timeout
          // watches the write.
          if (writing.get() == 0 && System.nanoTime() - lastActivity.get() >= idleTimeoutMillis * 1_000_000L) {
            break;
          }
          continue;
        }
        if (n < 0) {
          break;
        }
        writing.incrementAndGet();
        lastActivity.set(System.nanoTime());
        upstreamSpokeLast = counter == toClient;
        try {
          out.write(buffer, 0, n);
          out.flush();
          lastActivity.set(System.nanoTime());
        } finally {
          writing.decrementAndGet();
        }
        counter.addAndGet(n);
      }
      halfClose(destination);
    } catch (IOException e) {
      Connector.closeQuietly(client);
      Connector.closeQuietly(upstream);
    }
  }

  /**
   * Passes an end of stream on. On a TLS socket that is a close_notify with the socket still
   * read (TLS 1.3 half-closes; under TLS 1.2 the peer answers with its own and closes), as the
   * client's own TLS half-close reached the upstream: closing it cut the answer the upstream
   * was still sending (probe upgrade F2).
   */
  private static void halfClose(Socket socket) {
    try {
      if (!socket.isClosed() && !socket.isOutputShutdown()) {
        socket.shutdownOutput();
      }
    } catch (IOException e) {
      Connector.closeQuietly(socket);
    }
  }
}
