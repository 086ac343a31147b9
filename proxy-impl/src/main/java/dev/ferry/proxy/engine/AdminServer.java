package dev.ferry.proxy.engine;

import dev.ferry.proxy.Request;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.engine.admin.CrossSiteGuard;
import dev.ferry.proxy.engine.filter.FilterException;
import dev.ferry.proxy.engine.filter.RealChain;
import dev.ferry.proxy.engine.http1.HeadParser;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.LogValues;
import dev.ferry.proxy.engine.http1.ProxyFailure;
import dev.ferry.proxy.engine.http1.RequestHead;
import dev.ferry.proxy.engine.io.ConnectionInput;
import dev.ferry.proxy.engine.io.ConnectionOutput;
import dev.ferry.proxy.engine.upstream.HostNames;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin listener: a small, separate server for operators ({@code /_stats}, {@code /_dashboard}
 * and whatever the configured admin filters answer, such as {@code /metrics}). It reads one request
 * per connection, answers with {@code Connection: close}, and never forwards anything. Traffic is
 * light, so each connection gets a short-lived platform thread, at most 16 at once (one more
 * takes the slot of the connection waiting longest for its head, else is answered 503); its head
 * is due within the proxy's header timeout (10 s at most), and writes are bounded like the
 * proxy's own.
 */
final class AdminServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AdminServer.class);
  private static final int MAX_CONCURRENT = 16;
  private static final int READ_TIMEOUT_MILLIS = 10_000;
  private static final int LINGER_MILLIS = 1_000;

  private static final byte[] BUSY = ("HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
      + "Content-Length: 47\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
      + "Admin listener busy: too many open connections\n").getBytes(StandardCharsets.US_ASCII);

  private final RealProxyServer server;
  private final ServerSocket socket;
  private final InetSocketAddress address;
  private final Semaphore slots = new Semaphore(MAX_CONCURRENT);
  /** Refusals closing lingeringly at once, each on a short-lived thread of its own. */
  private final Semaphore refusers = new Semaphore(MAX_CONCURRENT);
  /** Connections still reading their request head, oldest first. */
  private final ConcurrentLinkedQueue<Socket> readingHeads = new ConcurrentLinkedQueue<>();
  /** The first refusal for want of a slot is a warning, the rest debug lines. */
  private volatile boolean warnedBusy;
  private final AtomicLong ids = new AtomicLong();
  private final Thread acceptor;

  private final int proxyPort;

  private AdminServer(RealProxyServer server, ServerSocket socket, int proxyPort) {
    this.server = server;
    this.proxyPort = proxyPort;
    this.socket = socket;
    this.address = new InetSocketAddress(socket.getInetAddress(), socket.getLocalPort());
    this.acceptor = new Thread(this::accept, "ferry-admin-" + proxyPort + "-accept");
    this.acceptor.setDaemon(true);
  }

  static AdminServer start(RealProxyServer server, InetSocketAddress bind, int proxyPort) {
    ServerSocket socket;
    try {
      socket = RealProxyServer.listen(bind, 64);
    } catch (IOException e) {
      throw new UncheckedIOException("could not bind admin listener " + bind.getHostString() + ":"
          + bind.getPort() + ": " + e.getMessage(), e);
    }
    AdminServer admin = new AdminServer(server, socket, proxyPort);
    admin.acceptor.start();
    LeveledLog.log(log, server.lifecycleLevel(), "admin_started address={}",
        HostNames.authorityText(admin.address.getAddress(), admin.address.getPort()));
    return admin;
  }

  InetSocketAddress address() {
    return address;
  }

  private void accept() {
    while (!socket.isClosed()) {
      Socket client;
      try {
        client = socket.accept();
      } catch (IOException e) {
        return;
      }
      if (!slots.tryAcquire() && !evictSlowestHead()) {
        refuseBusy(client);
        continue;
      }
      readingHeads.add(client);
      Thread worker = new Thread(() -> {
        try {
          serve(client);
        } finally {
          readingHeads.remove(client);
          slots.release();
        }
      }, "ferry-admin-" + proxyPort + "-conn-" + ids.incrementAndGet());
      worker.setDaemon(true);
      worker.start();
    }
  }

  /**
   * Every slot is taken: the connection that has waited longest for the rest of its head gives
   * its slot up, so that clients trickling heads cannot keep a scrape out even for the header
   * timeout (a request being answered is never cut). True if a slot came free.
   */
  private boolean evictSlowestHead() {
    Socket slowest = readingHeads.poll();
    if (slowest == null) {
      return false;
    }
    closeQuietly(slowest);
    try {
      return slots.tryAcquire(1, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private void serve(Socket client) {
    try (client) {
      client.setSoTimeout(READ_TIMEOUT_MILLIS);
      ConnectionInput in = new ConnectionInput(client, 8192);
      ConnectionOutput out = new ConnectionOutput(client, 8192, server.watchdog());
      ResponseSender sender = new ResponseSender(out);
      // The whole head within the proxy's header timeout, not each read: a client trickling a
      // byte at a time held its slot for ever, and sixteen of them took the listener (probe o14).
      long headTimeout = Math.min(READ_TIMEOUT_MILLIS,
          server.configuration().requestHeaderTimeout().toMillis());
      in.deadline(System.nanoTime() + headTimeout * 1_000_000L);
      RequestHead head;
      try {
        head = new HeadParser(in, 8192, 64 * 1024, 100).readRequest();
        // The Host the cross-site guard reads must be the request's only one.
        InboundRequest.singleHost(head);
      } catch (SocketTimeoutException e) {
        sender.send(ErrorResponses.render(new HttpFailureException(ProxyFailure.REQUEST_TIMEOUT,
            "request head not received in time")), false, 1, true, false);
        return;
      } catch (HttpFailureException e) {
        sender.send(ErrorResponses.render(e), false, 1, true, false);
        return;
      } finally {
        readingHeads.remove(client);
      }
      in.readTimeout(READ_TIMEOUT_MILLIS);
      Request request = Request.builder().method(head.method())
          .authority(HostNames.authorityText(address.getAddress(), address.getPort()))
          .target(head.target().startsWith("/") ? head.target() : "/").headers(head.headers()).build();
      Response response = answer(request);
      sender.send(response, head.method().equals("HEAD"), head.minorVersion(), true, false);
      log.debug("admin_request method={} path={} status={}", head.method(), request.path(), response.status());
    } catch (IOException e) {
      log.debug("admin_connection_failed error={}", LogValues.quoted(e.toString()));
    } catch (RuntimeException e) {
      log.error("admin_request_failed", e);
    }
  }

  /**
   * Every slot is taken: a 503, then a lingering close on a thread of its own (at most 16 at
   * once; past that the connection is closed), where it was closed unanswered and unlogged.
   */
  private void refuseBusy(Socket client) {
    if (!warnedBusy) {
      warnedBusy = true;
      log.warn("admin_busy connections={} (requests over it are answered 503; logged once, then at debug)",
          MAX_CONCURRENT);
    } else {
      log.debug("admin_busy connections={}", MAX_CONCURRENT);
    }
    if (!refusers.tryAcquire()) {
      closeQuietly(client); // a flood of refusals: the lingering closes are busy already
      return;
    }
    Thread refuser = new Thread(() -> {
      try (client) {
        client.getOutputStream().write(BUSY);
        // A lingering close: closed on a request not yet read, the socket sent a reset, and the
        // client lost the 503 with it (probe v15).
        client.shutdownOutput();
        client.setSoTimeout(LINGER_MILLIS);
        InputStream in = client.getInputStream();
        byte[] discard = new byte[4096];
        long deadline = System.nanoTime() + LINGER_MILLIS * 1_000_000L;
        while (in.read(discard) >= 0 && System.nanoTime() < deadline) {
          // the client's request, unread
        }
      } catch (IOException e) {
        log.debug("admin_connection_failed error={}", LogValues.quoted(e.toString()));
      } finally {
        refusers.release();
      }
    }, "ferry-admin-" + proxyPort + "-busy");
    refuser.setDaemon(true);
    refuser.start();
  }

  /**
   * Requests a web page could have made are refused; then admin filters (they may answer more
   * paths), then the built-in endpoints, else 404.
   */
  private Response answer(Request request) {
    Optional<Response> refused = CrossSiteGuard.refusal(request, address.getAddress().isLoopbackAddress());
    if (refused.isPresent()) {
      return refused.get();
    }
    try {
      return RealChain.run(server.configuration().adminFilters(), new AdminExchange(request, address),
          request, r -> server.adminEndpoints().handle(r).orElseGet(() ->
              Response.text(404, "Not found: the admin listener serves /_stats and /_dashboard\n")));
    } catch (FilterException e) {
      log.error("admin_filter_failed filter={}", e.filterName(), e);
      return ErrorResponses.render(new HttpFailureException(ProxyFailure.FILTER_FAILED, e.publicDetail()));
    } catch (IOException e) {
      return ErrorResponses.render(new HttpFailureException(ProxyFailure.FILTER_FAILED, "admin filter failed"));
    }
  }

  @Override
  public void close() {
    closeQuietly(socket);
    try {
      acceptor.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void closeQuietly(java.io.Closeable closeable) {
    try {
      closeable.close();
    } catch (IOException ignored) {
      // Closing is best effort.
    }
  }
}
