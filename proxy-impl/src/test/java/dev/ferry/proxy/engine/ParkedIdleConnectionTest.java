package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.proxy.CertificateAuthority;
import dev.ferry.proxy.Concurrency;
import dev.ferry.proxy.InterceptTls;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.ServerTls;
import dev.ferry.proxy.Upstream;
import dev.ferry.proxy.engine.tls.StallingTlsClient;
import dev.ferry.proxy.UpstreamTls;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.UnaryOperator;
import javax.net.ssl.SSLContext;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue #14: on the bounded pool, an idle keep-alive connection waits on a selector without a
 * thread, so far more connections than threads stay open and are served when they speak again.
 * Under virtual threads too, so that an idle connection keeps no parked thread's stack. A few
 * (while fewer than half of the pool's threads run; 256 virtual threads) wait in a blocking read
 * on their own thread instead, bounded by the idle timeout through the I/O watchdog.
 */
class ParkedIdleConnectionTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  @Test
  void keepsManyMoreIdleConnectionsThanThreadsAndServesEachAgain() throws Exception {
    // One of two threads running is half of them: every idle connection parks.
    serveEachTwice(Concurrency.boundedPool(2, 0), 40, 0);
  }

  /** TLS sessions park too, once their SSL socket holds no decrypted bytes. */
  @Test
  void parksIdleTlsConnectionsAndServesEachAgain() throws Exception {
    TestCertificates certificates = TestCertificates.issued("localhost", null, 2);
    ProxyServer.Builder builder = tlsProxy(certificates);
    serveEachTwice(builder, proxy -> new RawClient(proxy.address(), certificates.trustingContext()), "a",
        Concurrency.boundedPool(2, 0), 20, 0);
  }

  /**
   * An intercepted HTTPS session is the client's connection from the handshake on: idle, it
   * gives its thread back and parks like any TLS connection. Before, it ran inside its CONNECT's
   * task and kept the thread until the client left.
   */
  @Test
  void parksIdleInterceptedSessionsAndServesEachAgain() throws Exception {
    TestCertificates origin = TestCertificates.issued("localhost", null, 2);
    CertificateAuthority ca = CertificateAuthority.generate();
    String authority = "localhost:" + TlsOrigin.start(ferry, origin.serverContext());
    ProxyServer.Builder builder = ProxyServer.builder().allowAnyConnectPort()
        .interceptTls(InterceptTls.of(ca).hosts("localhost"))
        .upstreamTls(UpstreamTls.trusting(origin.trustStore()));
    serveEachTwice(builder, proxy -> RawClient.throughTunnel(proxy.address(), authority, ca.sslContext()),
        authority, Concurrency.boundedPool(2, 0), 12, 0);
  }

  @Test
  void idleConnectionsAreHeldWhileFewerThanHalfOfThePoolRuns() throws Exception {
    // Each served connection asks while running itself: held with up to two others, not three.
    serveEachTwice(Concurrency.boundedPool(8, 0), 12, 3);
  }

  @Test
  void virtualThreadsHoldAtMost256IdleConnectionsAndParkTheRest() throws Exception {
    assumeTrue(Runtime.version().feature() >= 21, "virtual threads need Java 21+");
    serveEachTwice(Concurrency.virtualThreads(), 264, 256);
  }

  /**
   * More clients than threads, each sending its next request as soon as it has the answer (a
   * load generator, a busy service): each connection in turn has a thread for a while and then
   * goes to the back of the queue. Before, the first two kept the two threads for as long as
   * they kept sending, and the others were never served.
   */
  @Test
  void sharesThePoolAmongMoreBusyClientsThanThreads() throws Exception {
    busyClientsTakeTurns(ProxyServer.builder(), null);
  }

  /** TLS connections take turns the same way (they go back to the queue, not to the selector). */
  @Test
  void sharesThePoolAmongMoreBusyTlsClientsThanThreads() throws Exception {
    TestCertificates certificates = TestCertificates.issued("localhost", null, 2);
    busyClientsTakeTurns(ProxyServer.builder()
        .tls(ServerTls.keyStore(certificates.keyStore(), TestCertificates.password())),
        certificates.trustingContext());
  }

  /**
   * Stopping while busy connections take turns: those waiting in the queue after their turn
   * are closed and ended like the others, and stop returns (the extension then checks that no
   * thread, socket or upstream connection is left).
   */
  @Test
  void stopsWhileBusyClientsTakeTurns() throws Exception {
    busyClientsTakeTurns(ProxyServer.builder(), null, true);
  }

  private void busyClientsTakeTurns(ProxyServer.Builder builder, SSLContext tls) throws Exception {
    busyClientsTakeTurns(builder, tls, false);
  }

  /**
   * Six clients send requests back to back through a pool of two threads until each has been
   * served 20 times; then, if {@code stopFirst}, the proxy is stopped while they still send.
   */
  private void busyClientsTakeTurns(ProxyServer.Builder builder, SSLContext tls, boolean stopFirst)
      throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    ProxyServer proxy = ferry.start(builder.upstream(Upstream.of(origin.url("/")))
        .concurrency(Concurrency.boundedPool(2, 16)));
    int clients = 6;
    AtomicIntegerArray served = new AtomicIntegerArray(clients);
    AtomicBoolean stop = new AtomicBoolean();
    ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < clients; i++) {
      int client = i;
      Thread thread = new Thread(() -> {
        try (RawClient raw = new RawClient(proxy.address(), tls)) {
          while (!stop.get()) {
            assertThat(raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText()).isEqualTo("ok");
            served.incrementAndGet(client);
          }
        } catch (Throwable e) {
          failures.add(e);
        }
      }, "busy-client-" + i);
      thread.setDaemon(true);
      threads.add(thread);
      thread.start();
    }
    try {
      Await.until(() -> {
        for (int i = 0; i < clients; i++) {
          if (served.get(i) < 20) {
            return !failures.isEmpty();
          }
        }
        return true;
      }, Duration.ofSeconds(20), () -> "every busy client to be served 20 times; served " + served);
      if (stopFirst) {
        proxy.stop(Duration.ofSeconds(5));
        assertThat(proxy.stats().activeConnections()).isZero();
        for (Thread thread : threads) {
          thread.join(10_000);
          assertThat(thread.isAlive()).as("client thread still waiting for an answer").isFalse();
        }
        return;
      }
    } finally {
      stop.set(true);
      for (Thread thread : threads) {
        thread.join(10_000);
      }
    }
    assertThat(failures).isEmpty();
    assertThat(proxy.stats().connectionsRejected()).isZero();
    Await.until(() -> proxy.stats().activeConnections() == 0, "the clients' connections to end");
  }

  /**
   * Opens {@code count} connections one after another and serves each once, then serves each
   * again; after every response, waits until exactly the connections within {@code cap} keep a
   * worker (holding an idle connection) and the others have given theirs back (parked).
   */
  private void serveEachTwice(Concurrency concurrency, int count, int cap) throws Exception {
    // The threads' holding and parking: the event loops would hold the connections themselves.
    serveEachTwice(ProxyServer.builder().upstream(Upstream.of(tinyOrigin())).eventLoop(false),
        proxy -> new RawClient(proxy.address()), "a", concurrency, count, cap);
  }

  /** A reverse proxy to a tiny origin on a TLS listener with {@code certificates}' key. */
  private ProxyServer.Builder tlsProxy(TestCertificates certificates) throws Exception {
    return ProxyServer.builder().upstream(Upstream.of(tinyOrigin()))
        .tls(ServerTls.keyStore(certificates.keyStore(), TestCertificates.password()));
  }

  /** A reverse proxy to {@code origin} on a pool of two threads. */
  private ProxyServer twoThreadProxy(MockWebServer origin) {
    return ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .concurrency(Concurrency.boundedPool(2, 16)));
  }

  /** A mock origin that answers "ok" {@code count} times. */
  private MockWebServer okOrigin(int count) throws IOException {
    MockWebServer origin = ferry.mockOrigin();
    for (int i = 0; i < count; i++) {
      origin.enqueue(new MockResponse().setBody("ok"));
    }
    return origin;
  }

  private String tinyOrigin() throws Exception {
    return ferry.track(TinyOrigin.answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")).url("/");
  }

  /** Opens one client connection to the proxy. */
  private interface Opener {
    RawClient open(ProxyServer proxy) throws Exception;
  }

  private void serveEachTwice(ProxyServer.Builder builder, Opener opener, String host, Concurrency concurrency,
      int count, int cap) throws Exception {
    ProxyServer proxy = ferry.start(builder.concurrency(concurrency));
    List<RawClient> clients = new ArrayList<>();
    try {
      for (int i = 0; i < count; i++) {
        RawClient client = opener.open(proxy);
        clients.add(client);
        assertThat(client.send("GET /first HTTP/1.1\r\nHost: " + host + "\r\n\r\n").readResponse().status())
            .isEqualTo(200);
        int held = Math.min(i + 1, cap);
        Await.until(() -> proxy.stats().activeWorkers() == held, Duration.ofSeconds(10),
            () -> "idle connections past the cap to give their threads back ("
                + proxy.stats().activeWorkers() + " running, " + held + " expected)");
      }
      assertThat(proxy.stats().activeConnections()).isEqualTo(count);
      for (RawClient client : clients) {
        assertThat(client.send("GET /again HTTP/1.1\r\nHost: " + host + "\r\n\r\n").readResponse().status())
            .isEqualTo(200);
        // At most the cap, never more. Under load a held connection was seen to park instead (2
        // running of 3 on a pool of 8 with both cores busy): most likely it took its turn while a
        // parked client's hand-off waited on the parker, and its old task still counted when the
        // new one asked to hold. It is held again at its next turn; the rule is "about half".
        Await.until(() -> proxy.stats().activeWorkers() <= cap, Duration.ofSeconds(10),
            () -> "the connections past the cap to park again (" + proxy.stats().activeWorkers()
                + " running, at most " + cap + " expected)");
      }
      assertThat(proxy.stats().connectionsRejected()).isZero();
    } finally {
      RawClient.closeAll(clients);
    }
    Await.until(() -> proxy.stats().activeConnections() == 0, "closed connections to end, held or parked");
  }

  @Test
  void closesHeldConnectionsAtTheIdleTimeout() throws Exception {
    closesAtTheIdleTimeout(Concurrency.boundedPool(8, 0), 1);
  }

  @Test
  void closesHeldVirtualThreadConnectionsAtTheIdleTimeout() throws Exception {
    assumeTrue(Runtime.version().feature() >= 21, "virtual threads need Java 21+");
    closesAtTheIdleTimeout(Concurrency.virtualThreads(), 1);
  }

  @Test
  void closesParkedConnectionsAtTheIdleTimeout() throws Exception {
    closesAtTheIdleTimeout(Concurrency.boundedPool(2, 0), 0);
  }

  /**
   * A parked TLS connection is closed at the idle timeout like a plain one, and the selector
   * goes on parking: a second connection is served, parks and expires in turn.
   */
  @Test
  void closesParkedTlsConnectionsAtTheIdleTimeoutAndParksTheNext() throws Exception {
    TestCertificates certificates = TestCertificates.issued("localhost", null, 2);
    ProxyServer proxy = ferry.start(tlsProxy(certificates)
        .concurrency(Concurrency.boundedPool(2, 0)).idleTimeout(Duration.ofMillis(600)));
    for (int i = 0; i < 2; i++) {
      closesAtTheIdleTimeout(proxy, new RawClient(proxy.address(), certificates.trustingContext()), 0);
    }
  }

  /**
   * A TLS client that trickles a record in a byte at a time wakes its parked connection with each
   * byte, but no request comes of it: the connection still closes at the idle timeout counted
   * from its response. Before, each wake-up restarted the timeout, and the connection stayed open
   * for as long as the bytes kept coming.
   */
  @Test
  void closesAParkedTlsConnectionTricklingARecordAtTheIdleTimeout() throws Exception {
    closesATlsConnectionTricklingARecord(Concurrency.boundedPool(2, 0), 0);
  }

  /**
   * The same for a connection that waits for its next request on its own thread (a pool with
   * threads to spare holds a few idle ones): the wait is one blocking read, and the session's
   * read waited SO_TIMEOUT afresh after every byte that completed no record, so the thread was
   * held and the idle timeout never came while the bytes did (probe tls F1).
   */
  @Test
  void closesATlsConnectionHeldOnItsThreadTricklingARecordAtTheIdleTimeout() throws Exception {
    closesATlsConnectionTricklingARecord(Concurrency.boundedPool(16, 0), 1);
  }

  /**
   * Serves one request over TLS by a proxy on {@code concurrency} with an idle timeout of 600 ms,
   * waits until the idle connection holds {@code heldWorkers} threads (0: parked), then trickles
   * an application-data record's header and payload a byte every 100 ms at most, and asserts
   * that the proxy closes the connection before the record is whole, and not before the timeout.
   */
  private void closesATlsConnectionTricklingARecord(Concurrency concurrency, int heldWorkers)
      throws Exception {
    TestCertificates certificates = TestCertificates.issued("localhost", null, 2);
    ProxyServer proxy = ferry.start(tlsProxy(certificates).concurrency(concurrency)
        .idleTimeout(Duration.ofMillis(600)));
    try (Socket plain = new Socket()) {
      plain.connect(proxy.address(), 5000);
      plain.setSoTimeout(5000);
      RawClient client = new RawClient(certificates.trustingContext().getSocketFactory()
          .createSocket(plain, "localhost", proxy.port(), false));
      assertThat(client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
      long served = System.nanoTime();
      Await.until(() -> proxy.stats().activeWorkers() == heldWorkers,
          heldWorkers == 0 ? "the idle TLS connection to park" : "the idle TLS connection to wait on its thread");
      // An application-data record's header, then its 64-byte payload, a byte every 100 ms at most.
      byte[] header = {0x17, 0x03, 0x03, 0x00, 0x40};
      boolean closed = false;
      plain.setSoTimeout(100);
      for (int i = 0; i < 40 && !closed; i++) {
        try {
          plain.getOutputStream().write(i < header.length ? header[i] : 0);
          plain.getOutputStream().flush();
          // The proxy's close_notify may come before the end of the stream.
          closed = plain.getInputStream().read(new byte[512]) == -1;
        } catch (SocketTimeoutException stillOpen) {
          // Nothing from the proxy yet: trickle on.
        } catch (IOException cut) {
          closed = true;
        }
      }
      assertThat(closed).as("closed at the idle timeout while the record trickled in").isTrue();
      assertThat(Duration.ofNanos(System.nanoTime() - served)).isGreaterThan(Duration.ofMillis(500));
    }
    Await.until(() -> proxy.stats().activeConnections() == 0, "the connection to end");
  }

  /**
   * A TLS connection closed while parked, at its idle timeout after a request or at the header
   * timeout before any, says so with close_notify (RFC 8446 §6.1) before the end of the stream:
   * the parked socket is non-blocking, and its close sent none (probe tlsframe F1).
   */
  @Test
  void sendsCloseNotifyWhenClosingAParkedTlsConnection() throws Exception {
    TestCertificates certificates = TestCertificates.issued("localhost", null, 2);
    ProxyServer proxy = ferry.start(tlsProxy(certificates).concurrency(Concurrency.boundedPool(2, 16))
        .idleTimeout(Duration.ofMillis(300)).requestHeaderTimeout(Duration.ofMillis(600)));
    for (boolean request : new boolean[] {true, false}) {
      java.io.ByteArrayOutputStream received = new java.io.ByteArrayOutputStream();
      Socket plain = new Socket() {
        @Override
        public InputStream getInputStream() throws IOException {
          return new java.io.FilterInputStream(super.getInputStream()) {
            @Override
            public int read(byte[] bytes, int offset, int length) throws IOException {
              int n = super.read(bytes, offset, length);
              if (n > 0) {
                received.write(bytes, offset, n);
              }
              return n;
            }
          };
        }
      };
      plain.connect(proxy.address(), 5_000);
      plain.setSoTimeout(5_000);
      javax.net.ssl.SSLSocket tls = (javax.net.ssl.SSLSocket) certificates.trustingContext().getSocketFactory()
          .createSocket(plain, "localhost", proxy.port(), true);
      // TLS 1.2, whose record headers say which records are alerts.
      tls.setEnabledProtocols(new String[] {"TLSv1.2"});
      try (RawClient client = new RawClient(tls)) {
        tls.startHandshake();
        if (request) {
          assertThat(client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
        }
        assertThat(client.input().read()).isEqualTo(-1);
      }
      assertThat(lastRecordType(received.toByteArray())).as("the last record (21: an alert) of " + (request
          ? "a connection idle after a request" : "a connection that sent no request")).isEqualTo(21);
    }
    Await.until(() -> proxy.stats().activeConnections() == 0, "both connections to end");
  }

  /** The content type of the last TLS record in {@code stream}. */
  private static int lastRecordType(byte[] stream) {
    int type = -1;
    for (int at = 0; at + 5 <= stream.length; at += 5 + ((stream[at + 3] & 0xff) << 8 | stream[at + 4] & 0xff)) {
      type = stream[at];
    }
    return type;
  }

  /**
   * Clients that connect to a TLS listener and never send their ClientHello are parked like
   * silent plain clients, so they do not hold the pool's threads in handshakes: a real client is
   * still served. Before, each held a thread for the request-header timeout, and with the pool
   * full the next connection was refused.
   */
  @Test
  void parksTlsClientsThatNeverSendTheirHello() throws Exception {
    TestCertificates certificates = TestCertificates.issued("localhost", null, 2);
    ProxyServer proxy = ferry.start(tlsProxy(certificates)
        .concurrency(Concurrency.boundedPool(2, 16)));
    List<RawClient> silent = new ArrayList<>();
    try {
      for (int i = 0; i < 6; i++) {
        silent.add(new RawClient(proxy.address()));
      }
      servesAnotherOnceAllPark(proxy, silent.size(), p -> new RawClient(p.address(), certificates.trustingContext()));
    } finally {
      RawClient.closeAll(silent);
    }
  }

  /**
   * Clients that send their ClientHello and stall there (the server's answer unread, their
   * Finished never sent) are parked mid-handshake, so they do not hold the pool's threads: a real
   * client is served meanwhile, and each stalled one that goes on later completes its handshake
   * where it stopped and is served. Before, the JDK's SSL socket held a thread for each until the
   * request-header timeout, and with the pool full the next connection was refused.
   */
  @Test
  void parksTlsClientsStallingInTheirHandshakeAndServesEachLater() throws Exception {
    TestCertificates certificates = TestCertificates.issued("localhost", null, 2);
    ProxyServer proxy = ferry.start(tlsProxy(certificates)
        .concurrency(Concurrency.boundedPool(2, 16)));
    List<StallingTlsClient> stalled = new ArrayList<>();
    try {
      for (int i = 0; i < 6; i++) {
        stalled.add(new StallingTlsClient(new RawClient(proxy.address()).socket(), certificates.trustingContext(),
            "localhost").sendHello());
      }
      servesAnotherOnceAllPark(proxy, stalled.size(), p -> new RawClient(p.address(), certificates.trustingContext()));
      for (StallingTlsClient client : stalled) {
        assertThat(client.finishAndSend("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            .readUntilClosed()).startsWith("HTTP/1.1 200").endsWith("ok");
      }
      assertThat(proxy.stats().failures()).doesNotContainKey("TLS_HANDSHAKE_FAILED");
    } finally {
      for (StallingTlsClient client : stalled) {
        client.close();
      }
    }
  }

  /**
   * The same inside intercepted CONNECTs, at both steps: tunnels answered 200 whose clients say
   * nothing yet, then handshakes with the proxy's leaf that stall after the ClientHello, are all
   * parked while another client is served; then each completes and is served. Before, an
   * intercepted tunnel held a thread from its 200 to the end of its handshake.
   */
  @Test
  void parksInterceptedTunnelsBeforeAndDuringTheirHandshakes() throws Exception {
    TestCertificates origin = TestCertificates.issued("localhost", null, 2);
    CertificateAuthority ca = CertificateAuthority.generate();
    String authority = "localhost:" + TlsOrigin.start(ferry, origin.serverContext());
    ProxyServer proxy = ferry.start(ProxyServer.builder().allowAnyConnectPort()
        .interceptTls(InterceptTls.of(ca).hosts("localhost"))
        .upstreamTls(UpstreamTls.trusting(origin.trustStore()))
        .concurrency(Concurrency.boundedPool(2, 16)));
    List<StallingTlsClient> stalled = new ArrayList<>();
    try {
      for (int i = 0; i < 6; i++) {
        RawClient tunnel = new RawClient(proxy.address());
        stalled.add(new StallingTlsClient(tunnel.socket(), ca.sslContext(), "localhost"));
        assertThat(tunnel.send("CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n")
            .readResponse(true).status()).isEqualTo(200);
      }
      servesAnotherOnceAllPark(proxy, stalled.size(),
          p -> RawClient.throughTunnel(p.address(), authority, ca.sslContext()));
      for (StallingTlsClient client : stalled) {
        client.sendHello();
      }
      servesAnotherOnceAllPark(proxy, stalled.size(),
          p -> RawClient.throughTunnel(p.address(), authority, ca.sslContext()));
      for (StallingTlsClient client : stalled) {
        assertThat(client.finishAndSend("GET / HTTP/1.1\r\nHost: " + authority + "\r\nConnection: close\r\n\r\n")
            .readUntilClosed()).startsWith("HTTP/1.1 200");
      }
    } finally {
      for (StallingTlsClient client : stalled) {
        client.close();
      }
    }
  }

  /**
   * An intercepted CONNECT whose client, after a pause long enough to be parked, sends bytes that
   * are not TLS has them relayed to the target as a plain tunnel.
   */
  @Test
  void relaysAParkedInterceptedTunnelWhoseFirstBytesAreNotTls() throws Exception {
    String target = tinyOrigin().replaceFirst("^http://", "").replaceFirst("/$", "");
    ProxyServer proxy = ferry.start(ProxyServer.builder().allowAnyConnectPort().allowPrivateDestinations(true)
        .interceptTls(InterceptTls.of(CertificateAuthority.generate()).hosts("127.0.0.1", "localhost"))
        .concurrency(Concurrency.boundedPool(2, 0)));
    try (RawClient client = new RawClient(proxy.address())) {
      assertThat(client.send("CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n")
          .readResponse(true).status()).isEqualTo(200);
      Await.until(() -> proxy.stats().activeWorkers() == 0, "the silent tunnel to park");
      assertThat(client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText()).isEqualTo("ok");
    }
  }

  /**
   * Slowloris: clients that send part of a head (one of them larger than the connection's
   * buffer) and stall are parked between their bytes instead of holding the pool's threads until
   * the request-header timeout, so a normal client is served meanwhile; each slow one is answered
   * once its head is complete.
   */
  @Test
  void parksClientsSendingTheirHeadsSlowlyAndServesEach() throws Exception {
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(tinyOrigin()))
        .concurrency(Concurrency.boundedPool(2, 16)));
    List<RawClient> slow = new ArrayList<>();
    try {
      for (int i = 0; i < 6; i++) {
        slow.add(new RawClient(proxy.address()).send("GET /slow HTTP/1.1\r\nHost: a\r\nX-Part: "));
      }
      // A head larger than the connection's 16 KiB buffer, stalled too: the buffer grows for it,
      // from the budget request bodies take from too, so that stalled heads cannot fill the heap.
      slow.add(new RawClient(proxy.address())
          .send("GET /slow HTTP/1.1\r\nHost: a\r\nX-Big: " + "b".repeat(20_000) + "\r\nX-Part: "));
      // Awaited: an event loop reads the first 16 KiB before it hands the head to a thread.
      Await.until(() -> proxy.stats().requestBufferBytes() > 0, "the large head's growth, budgeted");
      servesAnotherOnceAllPark(proxy, slow.size(), p -> new RawClient(p.address()));
      for (RawClient client : slow) {
        assertThat(client.send("1\r\n\r\n").readResponse().bodyText()).isEqualTo("ok");
      }
      assertThat(proxy.stats().connectionsRejected()).isZero();
      Await.until(() -> proxy.stats().requestBufferBytes() == 0, "the grown buffer's bytes back in the budget");
    } finally {
      RawClient.closeAll(slow);
    }
  }

  /**
   * Once stalled large heads have taken the whole request-buffer budget, the next head that
   * outgrows its connection's buffer is answered 503 with Retry-After at once and closed, and
   * other clients are still served. Before, it went to a thread to be read there, and on a
   * bounded pool enough of them held every thread until their header timeout.
   */
  @Test
  void refusesALargeHeadAtOnceWhileStalledHeadsHoldTheWholeBudget() throws Exception {
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(tinyOrigin()))
        .concurrency(Concurrency.boundedPool(2, 16)).maxHeaderBytes(1024 * 1024));
    String head = "GET /slow HTTP/1.1\r\nHost: a\r\nX-Big: ";
    List<RawClient> stalled = new ArrayList<>();
    try {
      // Heads of a megabyte take the budget in large steps, then ones of 20 KB take what is left.
      String large = head + "b".repeat(1_000_000);
      try (RawClient refused = stallUntilOneIsRefused(proxy, stalled, large, 0)) {
        assertThat(refused.readResponse().status()).isEqualTo(503);
      }
      try (RawClient refused = stallUntilOneIsRefused(proxy, stalled, head + "b".repeat(20_000),
          stalled.size() * growth(large))) {
        RawClient.RawResponse answer = refused.readResponse();
        assertThat(answer.status()).isEqualTo(503);
        assertThat(answer.headers()).containsEntry("retry-after", "1");
        assertThat(refused.isClosedByPeer()).isTrue();
      }
      try (RawClient other = new RawClient(proxy.address())) {
        assertThat(other.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
      }
    } finally {
      RawClient.closeAll(stalled);
    }
    Await.until(() -> proxy.stats().requestBufferBytes() == 0, "the stalled heads' buffers back in the budget");
    try (RawClient client = new RawClient(proxy.address())) {
      assertThat(client.send(head + "b".repeat(20_000) + "\r\n\r\n").readResponse().status()).isEqualTo(200);
    }
  }

  /**
   * Opens clients that each send {@code head} and stall, until the proxy refuses one for want of
   * budget (returned; the others are added to {@code stalled}). Each is waited for until all its
   * head is read and parked, which its buffer's growth tells (from the connection's 16 KiB to
   * the power of two that holds the head): a client taken as parked after part of its head
   * could be refused later, for the rest.
   */
  private static RawClient stallUntilOneIsRefused(ProxyServer proxy, List<RawClient> stalled, String head,
      long stalledBytes) throws Exception {
    long growth = growth(head);
    Await.until(() -> proxy.stats().activeConnections() == stalled.size()
        && proxy.stats().requestBufferBytes() == stalledBytes, Duration.ofSeconds(10),
        () -> "a refused connection to end: " + proxy.stats());
    for (int i = 0; i < 200; i++) {
      long refusedBefore = proxy.stats().failures().getOrDefault("OVERLOADED", 0L);
      long parkedBytes = proxy.stats().requestBufferBytes() + growth;
      RawClient client = new RawClient(proxy.address());
      client.send(head);
      Await.until(() -> proxy.stats().failures().getOrDefault("OVERLOADED", 0L) > refusedBefore
          || proxy.stats().requestBufferBytes() == parkedBytes && proxy.stats().activeWorkers() == 0,
          Duration.ofSeconds(10), () -> "the stalled head to park, or to be refused: " + proxy.stats());
      if (proxy.stats().failures().getOrDefault("OVERLOADED", 0L) > refusedBefore) {
        return client;
      }
      stalled.add(client);
    }
    throw new AssertionError("no head refused after 200 stalled heads took "
        + proxy.stats().requestBufferBytes() + " bytes of the request-buffer budget");
  }

  /** What a connection's buffer grows by, from its 16 KiB, to hold {@code head}. */
  private static long growth(String head) {
    return (Integer.highestOneBit(head.length() - 1) << 1) - 16 * 1024;
  }

  /**
   * Clients that send a whole head declaring a small body (by length, or chunked), and part of
   * the body, and stall are parked until the body is complete, so a normal client is served meanwhile; each is then
   * forwarded with its whole body. Before, each held a thread reading its body for as long as
   * the minimum body rate allowed.
   */
  @Test
  void parksClientsSendingASmallBodySlowlyAndForwardsEachWhole() throws Exception {
    MockWebServer origin = okOrigin(7);
    ProxyServer proxy = twoThreadProxy(origin);
    List<RawClient> slow = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        slow.add(new RawClient(proxy.address())
            .send("POST /form HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nfield="));
        slow.add(new RawClient(proxy.address())
            .send("POST /form HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\na\r\nfield="));
      }
      servesAnotherOnceAllPark(proxy, slow.size(), p -> new RawClient(p.address()));
      for (int i = 0; i < slow.size(); i++) {
        String rest = i % 2 == 0 ? "done" : "done\r\n0\r\n\r\n";
        assertThat(slow.get(i).send(rest).readResponse().bodyText()).isEqualTo("ok");
      }
      List<String> bodies = new ArrayList<>();
      for (int i = 0; i < 7; i++) {
        bodies.add(origin.takeRequest(5, TimeUnit.SECONDS).getBody().readUtf8());
      }
      assertThat(bodies).containsExactlyInAnyOrder("", "field=done", "field=done", "field=done",
          "field=done", "field=done", "field=done");
    } finally {
      RawClient.closeAll(slow);
    }
  }

  /**
   * Clients trickling their heads a byte every 10 ms, inside each 50 ms wait before a connection
   * parks, give their threads up after a turn once another client waits for one. Before, each
   * held its thread until its head's deadline (30 s), and two of them took a two-thread pool.
   * Without the event loops, which await heads in pieces themselves and give them no thread
   * ({@code LoopHeadInPiecesTest}).
   */
  @Test
  void makesTricklingClientsGiveTheirThreadsToOthersWaiting() throws Exception {
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(tinyOrigin()))
        .concurrency(Concurrency.boundedPool(2, 16)).eventLoop(false));
    List<RawClient> slow = new ArrayList<>();
    ScheduledExecutorService trickle = Executors.newSingleThreadScheduledExecutor();
    try {
      for (int i = 0; i < 2; i++) {
        slow.add(new RawClient(proxy.address()).send("GET /slow HTTP/1.1\r\nHost: a\r\nX-Slow: "));
      }
      // Time is what is under test: the clients send a byte every 10 ms.
      trickle.scheduleAtFixedRate(() -> slow.forEach(client -> {
        try {
          client.send("a");
        } catch (IOException closed) {
          // The test is over.
        }
      }), 0, 10, TimeUnit.MILLISECONDS);
      Await.until(() -> proxy.stats().activeWorkers() == 2, "the trickling clients to take both threads");
      try (RawClient client = new RawClient(proxy.address())) {
        assertThat(client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
      }
    } finally {
      trickle.shutdownNow();
      trickle.awaitTermination(5, TimeUnit.SECONDS);
      RawClient.closeAll(slow);
    }
  }

  /**
   * A chunked body of many one-byte chunks, sent at once: its framing makes it several times
   * larger on the wire than its data. Before, the connection's buffer filled up while the scan
   * still waited for the body's end, and the connection was closed without an answer.
   */
  @Test
  void forwardsAChunkedBodyOfManyTinyChunksWhole() throws Exception {
    MockWebServer origin = okOrigin(1);
    ProxyServer proxy = twoThreadProxy(origin);
    try (RawClient client = new RawClient(proxy.address())) {
      client.send("POST /log HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "1\r\nx\r\n".repeat(15_000) + "0\r\n\r\n");
      assertThat(client.readResponse().bodyText()).isEqualTo("ok");
    }
    assertThat(origin.takeRequest(5, TimeUnit.SECONDS).getBody().readUtf8()).isEqualTo("x".repeat(15_000));
  }

  /**
   * Clients sending bodies larger than the connection's buffer slowly (by length, up to the
   * request buffer) are parked between their bytes like those sending small ones, so a normal
   * client is served meanwhile; each is then forwarded whole. Before, a body over 16 KiB held a
   * pool thread for as long as the minimum body rate allowed: two of them took a two-thread pool.
   */
  @Test
  void parksClientsSendingALargeBodySlowlyAndForwardsEachWhole() throws Exception {
    MockWebServer origin = okOrigin(4);
    ProxyServer proxy = twoThreadProxy(origin);
    String body = "0123456789abcdef".repeat(12_800); // 200 KiB
    List<RawClient> slow = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        slow.add(new RawClient(proxy.address()).send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: "
            + body.length() + "\r\n\r\n" + body.substring(0, 70_000)));
      }
      servesAnotherOnceAllPark(proxy, slow.size(), p -> new RawClient(p.address()));
      assertThat(origin.getRequestCount()).as("only the normal client's request went upstream").isEqualTo(1);
      assertThat(proxy.stats().requestBufferBytes()).as("the buffers grown for the bodies")
          .isGreaterThanOrEqualTo(3 * (70_000 - 16 * 1024));
      for (RawClient client : slow) {
        assertThat(client.send(body.substring(70_000)).readResponse().bodyText()).isEqualTo("ok");
      }
      origin.takeRequest(5, TimeUnit.SECONDS);
      for (int i = 0; i < slow.size(); i++) {
        assertThat(origin.takeRequest(5, TimeUnit.SECONDS).getBody().readUtf8()).isEqualTo(body);
      }
      Await.until(() -> proxy.stats().requestBufferBytes() == 0, "the buffers to be given back");
    } finally {
      RawClient.closeAll(slow);
    }
  }

  /**
   * A TLS connection past its turn while others wait for a thread would park between the head
   * and the body of its request; but the body's record came with the head's, and waits
   * undecrypted in the session, where the selector does not see it. Before, such a request
   * waited for its body's deadline and was answered 408 "request body slower than ...": one in
   * ten of Node's split POSTs under concurrent load.
   */
  @Test
  void doesNotParkATlsRequestWhoseRestHasArrivedAlready() throws Exception {
    TestCertificates certificates = TestCertificates.issued("localhost", null, 2);
    MockWebServer origin = okOrigin(2);
    CountDownLatch inFilter = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .tls(ServerTls.keyStore(certificates.keyStore(), TestCertificates.password()))
        .concurrency(Concurrency.boundedPool(1, 1))
        .filter(HoldingFilter.holding("/busy", inFilter, release)));
    String body = "b".repeat(2000);
    try (Socket plain = new Socket(proxy.address().getAddress(), proxy.address().getPort());
        StallingTlsClient client = new StallingTlsClient(plain, certificates.trustingContext(), "localhost")) {
      client.sendHello().finish().sendRecords("GET /busy HTTP/1.1\r\nHost: a\r\n\r\n",
          "POST /upload HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: 2000\r\n\r\n", body);
      assertThat(inFilter.await(10, TimeUnit.SECONDS)).isTrue();
      long busySince = System.nanoTime();
      try (Socket waiting = new Socket(proxy.address().getAddress(), proxy.address().getPort())) {
        Await.until(() -> proxy.stats().queueDepth() == 1, "another connection to wait for the only thread");
        // Time passing is what is under test: the connection has kept its thread for more than a turn.
        Await.until(() -> System.nanoTime() - busySince > 50_000_000L, Duration.ofSeconds(5), () -> "50 ms to pass");
        release.countDown();
        String answers = client.readUntilClosed();
        assertThat(answers).startsWith("HTTP/1.1 200 ");
        assertThat(answers.indexOf("HTTP/1.1 200 ", 1)).as(answers).isPositive();
      }
    }
    origin.takeRequest(5, TimeUnit.SECONDS);
    assertThat(origin.takeRequest(5, TimeUnit.SECONDS).getBody().readUtf8()).isEqualTo(body);
  }

  /** Slow uploads over TLS are awaited whole the same way, parked on the channel beneath. */
  @Test
  void parksTlsClientsSendingALargeBodySlowlyAndForwardsEachWhole() throws Exception {
    TestCertificates certificates = TestCertificates.issued("localhost", null, 2);
    TinyOrigin origin = ferry.track(TinyOrigin.answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .tls(ServerTls.keyStore(certificates.keyStore(), TestCertificates.password()))
        .concurrency(Concurrency.boundedPool(2, 16)));
    String body = "0123456789abcdef".repeat(12_800);
    List<RawClient> slow = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        slow.add(new RawClient(proxy.address(), certificates.trustingContext()).send("POST /upload HTTP/1.1\r\n"
            + "Host: a\r\nContent-Length: " + body.length() + "\r\n\r\n" + body.substring(0, 70_000)));
      }
      servesAnotherOnceAllPark(proxy, slow.size(), p -> new RawClient(p.address(), certificates.trustingContext()));
      for (RawClient client : slow) {
        assertThat(client.send(body.substring(70_000)).readResponse().bodyText()).isEqualTo("ok");
      }
      List<Integer> lengths = new ArrayList<>();
      Await.until(() -> {
        TinyOrigin.Received request;
        while ((request = origin.pollRequest()) != null) {
          lengths.add(request.body().length);
        }
        return lengths.size() == 4;
      }, "the four requests at the origin");
      assertThat(lengths).containsExactlyInAnyOrder(0, body.length(), body.length(), body.length());
    } finally {
      RawClient.closeAll(slow);
    }
  }

  /**
   * A parked upload whose next bytes come in time, but that then waits for a thread past its
   * idle deadline, goes on: its idle time counts from those bytes. Before, it counted from the
   * bytes before the wait, and the upload was answered 408 "request body stalled".
   */
  @Test
  void countsTheIdleTimeFromBytesThatArrivedWhileWaitingForAThread() throws Exception {
    MockWebServer origin = okOrigin(2);
    CountDownLatch inFilter = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .concurrency(Concurrency.boundedPool(1, 16)).idleTimeout(Duration.ofSeconds(1)).minRequestBodyRate(0)
        .filter(HoldingFilter.holding("/block", inFilter, release)));
    try (RawClient upload = new RawClient(proxy.address()); RawClient blocker = new RawClient(proxy.address())) {
      long sent = System.nanoTime();
      upload.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 30\r\n\r\n" + "a".repeat(10));
      Await.until(() -> proxy.stats().activeWorkers() == 0, "the upload to park");
      blocker.send("GET /block HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(inFilter.await(10, TimeUnit.SECONDS)).isTrue();
      upload.send("b".repeat(10));
      Await.until(() -> proxy.stats().queueDepth() == 1, "the upload to wait for the only thread");
      // Time passing is what is under test: the upload's first bytes are now older than its idle timeout.
      Await.until(() -> System.nanoTime() - sent > 1_300_000_000L, Duration.ofSeconds(10), () -> "1.3 s to pass");
      release.countDown();
      assertThat(blocker.readResponse().status()).isEqualTo(200);
      assertThat(upload.send("c".repeat(10)).readResponse().status()).isEqualTo(200);
    }
    origin.takeRequest(5, TimeUnit.SECONDS);
    assertThat(origin.takeRequest(5, TimeUnit.SECONDS).getBody().readUtf8())
        .isEqualTo("a".repeat(10) + "b".repeat(10) + "c".repeat(10));
  }

  /**
   * A body awaited whole gives its buffer (and its share of the request buffers' budget) back as
   * soon as it has gone upstream, not when the connection's next request begins: a response
   * that streams for long does not keep it.
   */
  @Test
  void givesTheRequestBufferBackOnceTheBodyHasGoneUpstream() throws Exception {
    givesTheRequestBufferBackBeforeTheAnswer(false);
  }

  /**
   * A request pipelined right behind a body awaited whole does not keep the buffer grown for
   * that body while its own response streams: the buffer goes once its head is read.
   */
  @Test
  void givesTheRequestBufferBackBeforeAPipelinedRequestIsAnswered() throws Exception {
    givesTheRequestBufferBackBeforeTheAnswer(true);
  }

  private void givesTheRequestBufferBackBeforeTheAnswer(boolean pipelined) throws Exception {
    try (ServerSocket origin = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      origin.setSoTimeout(5000);
      RealProxyServer proxy = (RealProxyServer) ferry.start(ProxyServer.builder()
          .upstream(Upstream.of("http://127.0.0.1:" + origin.getLocalPort())));
      String body = "z".repeat(200_000);
      try (RawClient client = new RawClient(proxy.address())) {
        client.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: " + body.length() + "\r\n\r\n"
            + body.substring(0, 100_000));
        Await.until(() -> proxy.requestBuffers().taken() > 0, "the buffer to grow for the body");
        client.send(body.substring(100_000) + (pipelined ? "GET /stream HTTP/1.1\r\nHost: a\r\n\r\n" : ""));
        try (Socket upstream = origin.accept()) {
          upstream.setSoTimeout(5000);
          InputStream fromProxy = upstream.getInputStream();
          OutputStream toProxy = upstream.getOutputStream();
          while (!TinyOrigin.readLine(fromProxy).isEmpty()) {
            // the POST's head
          }
          assertThat(fromProxy.readNBytes(body.length())).hasSize(body.length());
          if (pipelined) {
            toProxy.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.ISO_8859_1));
            assertThat(TinyOrigin.readLine(fromProxy)).isEqualTo("GET /stream HTTP/1.1");
            while (!TinyOrigin.readLine(fromProxy).isEmpty()) {
              // the GET's head
            }
          }
          // The last request's response has not begun: its exchange holds no grown buffer.
          Await.until(() -> proxy.requestBuffers().taken() == 0, "the buffer to be given back");
          toProxy.write("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlast".getBytes(StandardCharsets.ISO_8859_1));
          if (pipelined) {
            assertThat(client.readResponse().bodyText()).isEqualTo("ok");
          }
          assertThat(client.readResponse().bodyText()).isEqualTo("last");
        }
      }
    }
  }

  /**
   * With {@code requestBufferBytes(0)} and {@code requestSpoolBytes(0)} nothing is awaited whole:
   * a client stalling mid-body holds the thread that streams its body upstream, as the options
   * document. The retry buffer keeps a copy as the body goes, never reading ahead: it used to
   * read a body this small whole before sending any of it (probe H1).
   */
  @Test
  void streamsEveryBodyOnAThreadWithoutARequestBufferOrSpool() throws Exception {
    streamsTheBodyUpstreamAsItArrives(builder -> builder.requestBufferBytes(0).requestSpoolBytes(0), 10);
  }

  /**
   * A body larger than the request buffer, with no disk to receive it on, streams upstream as it
   * arrives. Before, what arrived stayed in the upstream connection's 16 KiB output buffer until
   * that filled or the body ended.
   */
  @Test
  void streamsABodyLargerThanTheRequestBufferAsItArrivesWithoutASpool() throws Exception {
    streamsTheBodyUpstreamAsItArrives(builder -> builder.requestSpoolBytes(0), 2_000_000);
  }

  private void streamsTheBodyUpstreamAsItArrives(UnaryOperator<ProxyServer.Builder> options, int length)
      throws Exception {
    try (ServerSocket origin = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      origin.setSoTimeout(5000);
      ProxyServer proxy = ferry.start(options.apply(ProxyServer.builder()
          .upstream(Upstream.of("http://127.0.0.1:" + origin.getLocalPort()))
          .concurrency(Concurrency.boundedPool(2, 16))));
      try (RawClient client = new RawClient(proxy.address())) {
        client.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: " + length + "\r\n\r\nfield=");
        try (Socket upstream = origin.accept()) {
          upstream.setSoTimeout(5000);
          InputStream fromProxy = upstream.getInputStream();
          assertThat(TinyOrigin.readLine(fromProxy)).as("sent upstream before the body was complete")
              .isEqualTo("POST /upload HTTP/1.1");
          while (!TinyOrigin.readLine(fromProxy).isEmpty()) {
            // the rest of the head
          }
          assertThat(new String(fromProxy.readNBytes(6), StandardCharsets.ISO_8859_1)).isEqualTo("field=");
          assertThat(proxy.stats().activeWorkers()).as("a thread streams the body").isEqualTo(1);
          String rest = "x".repeat(length - 6);
          client.send(rest);
          assertThat(new String(fromProxy.readNBytes(rest.length()), StandardCharsets.ISO_8859_1)).isEqualTo(rest);
          upstream.getOutputStream().write(
              "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.ISO_8859_1));
          assertThat(client.readResponse().bodyText()).isEqualTo("ok");
        }
      }
    }
  }

  /**
   * A small body left unfinished while parked goes to a thread at the head's deadline, where the
   * exchange reads it under the usual body timeouts: the client is answered 408, not held.
   */
  @Test
  void answersASmallBodyLeftUnfinishedWhileParkedWith408() throws Exception {
    answersABodyLeftUnfinishedWhileParkedWith408("Content-Length: 10\r\n\r\nfield=");
  }

  @Test
  void answersAChunkedBodyLeftUnfinishedWhileParkedWith408() throws Exception {
    answersABodyLeftUnfinishedWhileParkedWith408("Transfer-Encoding: chunked\r\n\r\n6\r\nfield=\r\n");
  }

  /**
   * The body's head and start, then silence: 408, and nothing goes upstream. Before, the exchange
   * connected upstream and sent the head and the part of the body it had before finding the
   * stall, leaving the upstream a truncated request (nginx does not connect at all).
   */
  private void answersABodyLeftUnfinishedWhileParkedWith408(String framingAndStart) throws Exception {
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(tinyOrigin()))
        .concurrency(Concurrency.boundedPool(2, 0)).requestHeaderTimeout(Duration.ofMillis(600))
        .idleTimeout(Duration.ofMillis(600)));
    try (RawClient client = new RawClient(proxy.address())) {
      long sent = System.nanoTime();
      client.send("POST /form HTTP/1.1\r\nHost: a\r\n" + framingAndStart);
      Await.until(() -> proxy.stats().activeWorkers() == 0, "the connection stalled mid-body to park");
      assertThat(client.readResponse().status()).isEqualTo(408);
      assertThat(Duration.ofNanos(System.nanoTime() - sent)).isGreaterThan(Duration.ofMillis(500));
    }
    Await.until(() -> proxy.stats().activeConnections() == 0, "the connection to end");
    assertThat(proxy.stats().upstreamConnectionsOpened()).as("nothing sent upstream").isZero();
  }

  /**
   * A large body left unfinished while parked goes to a thread once the client has been quiet
   * for the idle timeout, and the exchange answers 408 at once: the quiet time before it counts,
   * rather than the exchange waiting a whole idle timeout again on the thread.
   */
  @Test
  void answersALargeBodyLeftUnfinishedWhileParkedWith408AtTheIdleTimeout() throws Exception {
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(tinyOrigin()))
        .concurrency(Concurrency.boundedPool(2, 0)).idleTimeout(Duration.ofSeconds(2)).minRequestBodyRate(0));
    try (RawClient client = new RawClient(proxy.address())) {
      long sent = System.nanoTime();
      client.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n" + "x".repeat(30_000));
      Await.until(() -> proxy.stats().activeWorkers() == 0, "the connection stalled mid-body to park");
      assertThat(client.readResponse().status()).isEqualTo(408);
      assertThat(Duration.ofNanos(System.nanoTime() - sent))
          .isGreaterThan(Duration.ofMillis(1900)).isLessThan(Duration.ofMillis(3500));
    }
    Await.until(() -> proxy.stats().activeConnections() == 0, "the connection to end");
    assertThat(proxy.stats().upstreamConnectionsOpened()).as("nothing sent upstream").isZero();
  }

  /**
   * The minimum body rate counts a body's bytes from its first, those that came with the head
   * included: a body whose first 8,000 bytes came with its head has earned 8 s at 1,000 bytes/s,
   * so the upload stays parked past the 5 s grace and the rest may come later. Before, the wait
   * counted only bytes arriving after the head, and handed the upload to a thread at 5 s, which
   * then held it for the rest of the body.
   */
  @Test
  void countsTheBodyBytesSentWithTheHeadTowardsTheMinimumRate() throws Exception {
    MockWebServer origin = okOrigin(1);
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .concurrency(Concurrency.boundedPool(2, 0)).minRequestBodyRate(1000));
    try (RawClient client = new RawClient(proxy.address())) {
      long sent = System.nanoTime();
      client.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 9000\r\n\r\n" + "x".repeat(8000));
      Await.until(() -> proxy.stats().activeWorkers() == 0, "the upload to park");
      // Time passing is what is under test: the rest comes after the grace, within what was earned.
      Await.until(() -> System.nanoTime() - sent > 6_000_000_000L, Duration.ofSeconds(10), () -> "6 s to pass");
      assertThat(proxy.stats().activeWorkers()).as("still parked").isZero();
      assertThat(origin.getRequestCount()).isZero();
      assertThat(client.send("y".repeat(1000)).readResponse().bodyText()).isEqualTo("ok");
    }
    assertThat(origin.takeRequest(5, TimeUnit.SECONDS).getBody().readUtf8()).isEqualTo("x".repeat(8000) + "y".repeat(1000));
  }

  /**
   * A rejected body's client is answered, then its connection lingers (what it still sends is
   * read and dropped for up to a second, so that closing does not reset the answer away) on the
   * selector, without a thread. Before, every lingering connection held a pool thread for that
   * second: a burst of rejected slow uploads took the whole pool.
   */
  @Test
  void lingersAfterARejectedBodyWithoutAThread() throws Exception {
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(tinyOrigin()))
        .concurrency(Concurrency.boundedPool(2, 0)).maxRequestBodyBytes(100));
    try (RawClient client = new RawClient(proxy.address())) {
      client.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n" + "x".repeat(5000));
      assertThat(client.readResponse().status()).isEqualTo(413);
      Await.until(() -> proxy.stats().activeWorkers() == 0 && proxy.stats().activeConnections() == 1,
          "the answered connection to linger without a thread");
      client.send("y".repeat(5000));
      Await.until(() -> proxy.stats().activeConnections() == 0, "the lingering connection to end");
      assertThat(client.isClosedByPeer()).isTrue();
    }
  }

  /**
   * Probe lc2: a streaming body that stalled past its deadline was answered 408, and the
   * connection was closed at once with the client's later bytes unread: a reset, which can
   * destroy the 408 before the client reads it. The read deadline had shut the input, so the
   * linger read an end at once. Now the connection is held for the linger's time (unread: the
   * input cannot be read), and the client's bytes meanwhile meet no reset.
   */
  @Test
  void lingersAfterA408ForAStreamingBodyThatStalled() throws Exception {
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(tinyOrigin()))
        .requestBufferBytes(0).requestSpoolBytes(0).idleTimeout(Duration.ofMillis(400)));
    try (RawClient client = new RawClient(proxy.address())) {
      client.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n" + "x".repeat(100));
      assertThat(client.readResponse().status()).isEqualTo(408);
      Await.until(() -> proxy.stats().activeWorkers() == 0, "the answered connection to linger without a thread");
      for (int i = 0; i < 5; i++) {
        client.send("y".repeat(100));
        // Input shaping: the client sends on, a little at a time, as a slow uploader does.
        java.util.concurrent.locks.LockSupport.parkNanos(100_000_000);
      }
      assertThat(proxy.stats().activeConnections()).as("still lingering").isEqualTo(1);
    }
    Await.until(() -> proxy.stats().activeConnections() == 0, "the lingering connection to end");
  }

  /**
   * Waits until all {@code stalled} clients are parked (connected, no worker busy), then has a
   * client from {@code opener} served; nobody may have been refused.
   */
  private void servesAnotherOnceAllPark(ProxyServer proxy, int stalled, Opener opener)
      throws Exception {
    Await.until(() -> proxy.stats().activeConnections() == stalled && proxy.stats().activeWorkers() == 0,
        "the stalled clients to park");
    try (RawClient client = opener.open(proxy)) {
      assertThat(client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
    }
    assertThat(proxy.stats().connectionsRejected()).isZero();
  }

  /** A head left unfinished while parked is answered 408 at the request-header timeout, then closed. */
  @Test
  void answersAHeadLeftUnfinishedWhileParkedWith408() throws Exception {
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(tinyOrigin()))
        .concurrency(Concurrency.boundedPool(2, 0)).requestHeaderTimeout(Duration.ofMillis(600)));
    try (RawClient client = new RawClient(proxy.address())) {
      assertThat(client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
      client.send("GET /unfinished HTTP/1.1\r\nHost: a\r\n");
      long sent = System.nanoTime();
      Await.until(() -> proxy.stats().activeWorkers() == 0, "the connection stalled mid-head to park");
      assertThat(client.readResponse().status()).isEqualTo(408);
      assertThat(Duration.ofNanos(System.nanoTime() - sent)).isGreaterThan(Duration.ofMillis(500));
      assertThat(client.isClosedByPeer()).isTrue();
    }
    Await.until(() -> proxy.stats().activeConnections() == 0, "the connection to end");
  }

  /** Stopping the proxy ends a parked TLS connection (its channel still registered), and stop returns. */
  @Test
  void stopsWithAParkedTlsConnection() throws Exception {
    TestCertificates certificates = TestCertificates.issued("localhost", null, 2);
    stopsWithAParkedConnection(tlsProxy(certificates),
        proxy -> new RawClient(proxy.address(), certificates.trustingContext()), "a");
  }

  @Test
  void stopsWithAParkedInterceptedSession() throws Exception {
    TestCertificates origin = TestCertificates.issued("localhost", null, 2);
    CertificateAuthority ca = CertificateAuthority.generate();
    String authority = "localhost:" + TlsOrigin.start(ferry, origin.serverContext());
    stopsWithAParkedConnection(ProxyServer.builder().allowAnyConnectPort()
        .interceptTls(InterceptTls.of(ca).hosts("localhost"))
        .upstreamTls(UpstreamTls.trusting(origin.trustStore())),
        proxy -> RawClient.throughTunnel(proxy.address(), authority, ca.sslContext()), authority);
  }

  private void stopsWithAParkedConnection(ProxyServer.Builder builder, Opener opener, String host)
      throws Exception {
    ProxyServer proxy = ferry.start(builder.concurrency(Concurrency.boundedPool(2, 0)));
    try (RawClient client = opener.open(proxy)) {
      assertThat(client.send("GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n").readResponse().status()).isEqualTo(200);
      Await.until(() -> proxy.stats().activeWorkers() == 0, "the idle connection to park");
      proxy.stop(Duration.ofSeconds(5));
      assertThat(client.isClosedByPeer()).isTrue();
    }
    assertThat(proxy.stats().activeConnections()).isZero();
  }

  /**
   * Serves one request, sees the idle connection keep {@code idleWorkers} workers (1 held, 0
   * parked), and then closed at the 600 ms idle timeout, not before, freeing everything.
   */
  private void closesAtTheIdleTimeout(Concurrency concurrency, int idleWorkers) throws Exception {
    // The threads' holding and parking: the event loops would hold the connection themselves.
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(tinyOrigin()))
        .concurrency(concurrency).idleTimeout(Duration.ofMillis(600)).eventLoop(false));
    closesAtTheIdleTimeout(proxy, new RawClient(proxy.address()), idleWorkers);
  }

  private void closesAtTheIdleTimeout(ProxyServer proxy, RawClient opened, int idleWorkers) throws Exception {
    try (RawClient client = opened) {
      assertThat(client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
      long served = System.nanoTime();
      Await.until(() -> proxy.stats().activeWorkers() == idleWorkers, "the idle connection to be held or parked");
      assertThat(client.isClosedByPeer()).isTrue();
      assertThat(Duration.ofNanos(System.nanoTime() - served)).isGreaterThan(Duration.ofMillis(500));
    }
    Await.until(() -> proxy.stats().activeConnections() == 0 && proxy.stats().activeWorkers() == 0,
        "the idle connection to end and free its thread");
  }
}
