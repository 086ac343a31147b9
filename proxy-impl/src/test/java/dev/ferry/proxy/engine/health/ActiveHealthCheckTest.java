package dev.ferry.proxy.engine.health;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.HealthCheck;
import dev.ferry.proxy.Upstream;
import dev.ferry.proxy.engine.Await;
import dev.ferry.proxy.engine.TestCertificates;
import dev.ferry.proxy.engine.route.LiveEndpoint;
import dev.ferry.proxy.engine.tls.UpstreamHandshake;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ActiveHealthCheckTest {
  private static final HealthCheck FAST = HealthCheck.http("/health")
      .interval(Duration.ofMillis(20)).timeout(Duration.ofSeconds(2))
      .healthyThreshold(2).unhealthyThreshold(2);

  /** The proxy's default limits on an upstream's head. */
  private static final HeadLimits LIMITS = new HeadLimits(64 * 1024, 100);

  private final ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(2);
  private final List<AutoCloseable> closeAfter = new ArrayList<>();

  ActiveHealthCheckTest() {
    scheduler.setRemoveOnCancelPolicy(true);
  }

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable closeable : closeAfter) {
      closeable.close();
    }
    scheduler.shutdownNow();
    assertThat(scheduler.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void marksABackendThatGoesDownUnhealthyAndHealthyWhenItComesBack() throws Exception {
    Backend backend = backend(new Backend());
    LiveEndpoint endpoint = endpoint(backend.url("127.0.0.1"));
    start(FAST, endpoint, null);
    Await.until(() -> backend.requests().size() >= 3, "three checks answered");
    assertThat(endpoint.healthy()).isTrue();

    backend.down();
    Await.until(() -> !endpoint.healthy(), "the endpoint to turn unhealthy");

    backend.up();
    Await.until(endpoint::healthy, "the endpoint to turn healthy again");
    assertThat(endpoint.state(System.nanoTime())).isEqualTo("healthy");
  }

  @Test
  void marksAnEndpointAnsweringAnUnexpectedStatusUnhealthy() throws Exception {
    Backend backend = backend(new Backend());
    backend.answer(503);
    LiveEndpoint endpoint = endpoint(backend.url("127.0.0.1"));
    start(FAST.expectStatus(200, 299), endpoint, null);

    Await.until(() -> !endpoint.healthy(), "a 503 to make the endpoint unhealthy");
    backend.answer(204);
    Await.until(endpoint::healthy, "a 204 to make it healthy again");
  }

  /** RFC 9110 §15.2: a client parses the interim responses it did not ask for and reads on. */
  @Test
  void readsPastInterimResponsesToTheFinalStatus() throws Exception {
    Backend backend = backend(new Backend());
    backend.interim("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
        + "HTTP/1.1 102 Processing\r\n\r\n");
    LiveEndpoint endpoint = endpoint(backend.url("127.0.0.1"));
    start(FAST.unhealthyThreshold(1), endpoint, null);

    Await.until(() -> backend.requests().size() >= 3, "three checks answered");
    assertThat(endpoint.healthy()).isTrue();
    backend.answer(503);
    Await.until(() -> !endpoint.healthy(), "the final 503 after the interim responses to count");
  }

  /**
   * A head a request's answer would be refused for fails the check, whatever its status line
   * says (probe r22: only the status line was read, and such endpoints stayed in rotation).
   */
  @Test
  void marksAnEndpointWhoseHeadIsMalformedOrNeverEndsUnhealthy() throws Exception {
    Backend backend = backend(new Backend());
    LiveEndpoint endpoint = endpoint(backend.url("127.0.0.1"));
    start(FAST.timeout(Duration.ofMillis(300)).unhealthyThreshold(1).healthyThreshold(1), endpoint, null);
    Await.until(() -> backend.requests().size() >= 2, "two checks answered");
    assertThat(endpoint.healthy()).isTrue();
    for (String broken : new String[] {"HTTP/1.1 200 OK\r\nX-Endless: 1\r\n",
        "HTTP/1.1 200 OK\r\n" + "X-Many: 1\r\n".repeat(101) + "Content-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nno colon in this line\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"}) {
      backend.answerBroken(broken);
      Await.until(() -> !endpoint.healthy(), "the endpoint to turn unhealthy on " + broken.replace("\r\n", "|"));
      backend.answer(200);
      Await.until(endpoint::healthy, "the endpoint to turn healthy again");
    }
    // A field at a time, each within any read timeout: the check's timeout bounds the whole head
    // (probe v22: it bounded each read, and such an endpoint stayed healthy).
    backend.trickleHead();
    Await.until(() -> !endpoint.healthy(), "the endpoint to turn unhealthy on a head that never ends");
    backend.answer(200);
    Await.until(endpoint::healthy, "the endpoint to turn healthy again");
  }

  @Test
  void countsABackendThatNeverAnswersAsFailedAfterTheTimeout() throws Exception {
    Backend backend = backend(new Backend());
    backend.silent();
    LiveEndpoint endpoint = endpoint(backend.url("127.0.0.1"));
    long started = System.nanoTime();
    start(FAST.timeout(Duration.ofMillis(100)).unhealthyThreshold(1), endpoint, null);

    Await.until(() -> !endpoint.healthy(), "the unanswered check to time out");
    assertThat(System.nanoTime() - started).isGreaterThanOrEqualTo(Duration.ofMillis(100).toNanos());
    Await.until(() -> backend.heldClosedByPeer() >= 1, "the timed-out check to close its connection");
  }

  @Test
  void sendsAGetForThePathWithHostConnectionCloseAndUserAgent() throws Exception {
    Backend backend = backend(new Backend());
    LiveEndpoint endpoint = endpoint(backend.url("127.0.0.1"));
    start(HealthCheck.http("/status/ready"), endpoint, null);

    String head = backend.requests().poll(10, TimeUnit.SECONDS);

    assertThat(head).isNotNull();
    assertThat(head.split("\r\n")).containsExactly("GET /status/ready HTTP/1.1",
        "Host: " + endpoint.endpoint().authority(), "Connection: close",
        "User-Agent: ferry-health-check", "Accept: */*");
  }

  @Test
  void checksHttpsEndpointsAndVerifiesTheHostName() throws Exception {
    TestCertificates certificate = TestCertificates.selfSigned("localhost", null, 2);
    SSLContext trusting = certificate.trustingContext();
    Backend backend = backend(new Backend(certificate.serverContext()));
    LiveEndpoint byName = endpoint(backend.url("localhost"));
    LiveEndpoint byAddress = endpoint(backend.url("127.0.0.1"));

    // The certificate names localhost only, so the check by address must fail its handshake.
    start(FAST.unhealthyThreshold(1), byAddress, trusting);
    Await.until(() -> !byAddress.healthy(), "a certificate for another name to fail the check");
    assertThat(backend.requests()).isEmpty();

    start(FAST.unhealthyThreshold(1), byName, trusting);
    Await.until(() -> backend.requests().size() >= 3, "three checks over TLS");
    assertThat(byName.healthy()).isTrue();
  }

  /**
   * The check's handshake is the one requests make: an endpoint whose certificate chain verifies
   * but which the proxy refuses (a CN and no subject alternative name) answers its requests 502,
   * so it must not look healthy.
   */
  @Test
  void checksHttpsEndpointsWithTheCertificateRulesRequestsMeet() throws Exception {
    TestCertificates noSan = TestCertificates.weak("localhost", false, List.of("-keyalg", "EC"), null);
    Backend backend = backend(new Backend(noSan.serverContext()));
    LiveEndpoint endpoint = endpoint(backend.url("localhost"));

    start(FAST.unhealthyThreshold(1), endpoint, noSan.trustingContext());

    Await.until(() -> !endpoint.healthy(), "a certificate without a subject alternative name to fail the check");
    assertThat(backend.requests()).isEmpty();
  }

  /**
   * The check's timeout bounds its whole TLS handshake, not each read: an endpoint trickling its
   * handshake a byte at a time stayed healthy for as long as it kept trickling (probe v30).
   */
  @Test
  void failsACheckWhoseHandshakeTricklesPastTheTimeout() throws Exception {
    ServerSocket trickling = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    closeAfter.add(trickling);
    Thread server = new Thread(() -> {
      while (!trickling.isClosed()) {
        try (Socket peer = trickling.accept()) {
          // A handshake record of 16 KiB, announced, then a byte of it every 50 ms.
          peer.getOutputStream().write(new byte[] {0x16, 0x03, 0x03, 0x40, 0x00});
          for (int i = 0; i < 16384; i++) {
            peer.getOutputStream().write(2);
            peer.getOutputStream().flush();
            Thread.sleep(50); // the trickle is the input under test, not a synchronisation
          }
        } catch (IOException e) {
          // The check gave up on this connection, or the test is over.
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "trickling-endpoint");
    server.setDaemon(true);
    server.start();
    LiveEndpoint endpoint = endpoint("https://localhost:" + trickling.getLocalPort());

    start(FAST.timeout(Duration.ofMillis(300)).unhealthyThreshold(1), endpoint, null);

    Await.until(() -> !endpoint.healthy(), "the trickled handshake to fail the check");
  }

  /**
   * After the handshake, the check's timeout bounds its whole answer over TLS too: one record
   * trickled a byte at a time is a single read for TLS, which held the check 30 times its timeout
   * and then counted the endpoint healthy (probe v31).
   */
  @Test
  void failsACheckWhoseAnswerTricklesOverTlsPastTheTimeout() throws Exception {
    TestCertificates certificate = TestCertificates.selfSigned("localhost", null, 2);
    javax.net.ssl.SSLSocketFactory tls = certificate.serverContext().getSocketFactory();
    ServerSocket listening = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    closeAfter.add(listening);
    Thread server = new Thread(() -> {
      while (!listening.isClosed()) {
        try (Socket peer = listening.accept()) {
          TricklingSocket trickling = new TricklingSocket(peer);
          javax.net.ssl.SSLSocket session = (javax.net.ssl.SSLSocket) tls.createSocket(trickling, null, true);
          session.setUseClientMode(false);
          session.startHandshake();
          session.getInputStream().read(new byte[4096]);
          trickling.trickle = true;
          session.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
          session.getOutputStream().flush();
        } catch (IOException e) {
          // The check gave up on this connection, or the test is over.
        }
      }
    }, "trickling-tls-endpoint");
    server.setDaemon(true);
    server.start();
    LiveEndpoint endpoint = endpoint("https://localhost:" + listening.getLocalPort());

    start(FAST.timeout(Duration.ofMillis(500)).unhealthyThreshold(1), endpoint, certificate.trustingContext());

    Await.until(() -> !endpoint.healthy(), Duration.ofSeconds(5), () -> "the trickled answer to fail the check");
  }

  /** A plain socket whose writes go out a byte every 100 ms once {@link #trickle} is set. */
  private static final class TricklingSocket extends Socket {
    private final Socket inner;
    volatile boolean trickle;

    TricklingSocket(Socket inner) {
      this.inner = inner;
    }

    @Override
    public java.io.InputStream getInputStream() throws IOException {
      return inner.getInputStream();
    }

    @Override
    public java.io.OutputStream getOutputStream() throws IOException {
      java.io.OutputStream out = inner.getOutputStream();
      return new java.io.OutputStream() {
        @Override
        public void write(int b) throws IOException {
          out.write(b);
        }

        @Override
        public void write(byte[] bytes, int offset, int length) throws IOException {
          if (!trickle) {
            out.write(bytes, offset, length);
            return;
          }
          for (int i = 0; i < length; i++) {
            out.write(bytes[offset + i]);
            out.flush();
            try {
              Thread.sleep(100); // the trickle is the input under test, not a synchronisation
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              throw new IOException(e);
            }
          }
        }
      };
    }

    @Override
    public boolean isConnected() {
      return inner.isConnected();
    }

    @Override
    public boolean isClosed() {
      return inner.isClosed();
    }

    @Override
    public synchronized void close() throws IOException {
      inner.close();
    }

    @Override
    public java.net.InetAddress getInetAddress() {
      return inner.getInetAddress();
    }

    @Override
    public int getPort() {
      return inner.getPort();
    }

    @Override
    public synchronized void setSoTimeout(int timeout) throws java.net.SocketException {
      inner.setSoTimeout(timeout);
    }

    @Override
    public synchronized int getSoTimeout() throws java.net.SocketException {
      return inner.getSoTimeout();
    }
  }

  @Test
  void stopsItsChecksAndClosesOneInProgressWithoutWaitingForItsTimeout() throws Exception {
    Backend backend = backend(new Backend());
    backend.silent();
    LiveEndpoint endpoint = endpoint(backend.url("127.0.0.1"));
    ActiveHealthChecker checker = start(FAST.timeout(Duration.ofSeconds(30)).unhealthyThreshold(1), endpoint, null);
    Await.until(() -> backend.requests().size() == 1, "a check to be waiting for its answer");

    checker.stop();

    Await.until(() -> backend.heldClosedByPeer() == 1, Duration.ofSeconds(5), () -> "the check's connection to close");
    Await.until(() -> scheduler.getQueue().isEmpty() && scheduler.getActiveCount() == 0,
        "the scheduler to have no task of the checker");
    assertThat(scheduler.isShutdown()).as("the scheduler belongs to the proxy").isFalse();
    assertThat(endpoint.healthy()).as("a check cut short by stop() decides nothing").isTrue();
  }

  @Test
  void startsAgainAfterStopping() throws Exception {
    Backend backend = backend(new Backend());
    LiveEndpoint endpoint = endpoint(backend.url("127.0.0.1"));
    ActiveHealthChecker checker = start(FAST, endpoint, null);
    checker.start();
    Await.until(() -> !backend.requests().isEmpty(), "a check");
    checker.stop();
    Await.until(() -> scheduler.getQueue().isEmpty() && scheduler.getActiveCount() == 0, "the checks to stop");
    backend.requests().clear();

    checker.start();

    Await.until(() -> backend.requests().size() >= 2, "checks after the restart");
    // A periodic task leaves the queue while it runs: wait for it to be back rather than race it.
    Await.until(() -> scheduler.getQueue().size() == 1, "one task per endpoint, whatever start() was called twice");
  }

  private ActiveHealthChecker start(HealthCheck check, LiveEndpoint endpoint, SSLContext tls) {
    ActiveHealthChecker checker = new ActiveHealthChecker("api", check, List.of(endpoint),
        new UpstreamHandshake(tls, true), scheduler, LIMITS);
    closeAfter.add(0, checker::stop);
    checker.start();
    return checker;
  }

  private Backend backend(Backend backend) {
    closeAfter.add(backend);
    return backend;
  }

  private static LiveEndpoint endpoint(String url) {
    return new LiveEndpoint("api", Upstream.of(url).endpoints().get(0));
  }
}
