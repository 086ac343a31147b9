package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.Concurrency;
import dev.ferry.proxy.ExchangeListener;
import dev.ferry.proxy.ExchangeSummary;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.ServerTls;
import dev.ferry.proxy.Upstream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Issue #14: a request body framed by {@code Content-Length} larger than the request buffer is
 * received whole on disk before its exchange, the client waiting between its bytes without a
 * thread or an upstream connection ("slow POST": a large declared length sent slowly held a pool
 * thread for as long as the minimum body rate allowed). Each engine test's extension checks that
 * a stopped proxy gave all the disk space back.
 */
class SpooledRequestBodyTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();
  @TempDir Path spoolDirectory;

  private static final String BODY = "0123456789abcdef".repeat(12_800); // 200 KiB

  /**
   * Three clients sending 200 KiB bodies slowly, past a 32 KiB request buffer, all park on a
   * two-thread pool while another client is served; each body then goes upstream whole. Before,
   * the first two held the pool's threads and the normal client was never served.
   */
  @Test
  void parksClientsSendingABodyLargerThanTheRequestBufferSlowlyAndForwardsEachWhole() throws Exception {
    parksSlowUploadsAndForwardsEachWhole(uploadHead(BODY.length()) + BODY);
  }

  /**
   * Three slow uploads, each sending the first 70,000 bytes of {@code request} and stalling, park
   * on a two-thread pool while another client is served, with no name for their files; each body
   * then goes upstream whole, and the disk space comes back.
   */
  private void parksSlowUploadsAndForwardsEachWhole(String request) throws Exception {
    MockWebServer origin = okOrigin(4);
    ProxyServer proxy = ferry.start(spooling(origin.url("/").toString()).concurrency(Concurrency.boundedPool(2, 16)));
    List<RawClient> slow = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        slow.add(new RawClient(proxy.address()).send(request.substring(0, 70_000)));
      }
      servesAnotherOnceAllPark(proxy, slow.size(), () -> new RawClient(proxy.address()));
      assertThat(origin.getRequestCount()).as("only the normal client's request went upstream").isEqualTo(1);
      Await.until(() -> proxy.stats().requestSpoolBytes() >= 3 * (70_000 - 32 * 1024),
          "the bodies' bytes so far on disk");
      try (Stream<Path> files = Files.list(spoolDirectory)) {
        assertThat(files).as("the spool files have no names").isEmpty();
      }
      for (RawClient client : slow) {
        assertThat(client.send(request.substring(70_000)).readResponse().bodyText()).isEqualTo("ok");
      }
      origin.takeRequest(5, TimeUnit.SECONDS);
      for (int i = 0; i < slow.size(); i++) {
        assertThat(origin.takeRequest(5, TimeUnit.SECONDS).getBody().readUtf8()).isEqualTo(BODY);
      }
      Await.until(() -> proxy.stats().requestSpoolBytes() == 0, "the disk space to be given back");
    } finally {
      RawClient.closeAll(slow);
    }
  }

  /** Over TLS the same: the connection parks on the channel beneath, its body on disk. */
  @Test
  void parksTlsClientsSendingABodyLargerThanTheRequestBufferSlowly() throws Exception {
    TestCertificates certificates = TestCertificates.issued("localhost", null, 2);
    MockWebServer origin = okOrigin(3);
    ProxyServer proxy = ferry.start(spooling(origin.url("/").toString()).concurrency(Concurrency.boundedPool(2, 16))
        .tls(ServerTls.keyStore(certificates.keyStore(), TestCertificates.password())));
    List<RawClient> slow = new ArrayList<>();
    try {
      for (int i = 0; i < 2; i++) {
        slow.add(new RawClient(proxy.address(), certificates.trustingContext())
            .send(uploadHead(BODY.length()) + BODY.substring(0, 70_000)));
      }
      servesAnotherOnceAllPark(proxy, slow.size(), () -> new RawClient(proxy.address(), certificates.trustingContext()));
      assertThat(proxy.stats().requestSpoolBytes()).isPositive();
      for (RawClient client : slow) {
        assertThat(client.send(BODY.substring(70_000)).readResponse().bodyText()).isEqualTo("ok");
      }
      origin.takeRequest(5, TimeUnit.SECONDS);
      for (int i = 0; i < slow.size(); i++) {
        assertThat(origin.takeRequest(5, TimeUnit.SECONDS).getBody().readUtf8()).isEqualTo(BODY);
      }
    } finally {
      RawClient.closeAll(slow);
    }
  }

  /**
   * Disk space is taken as the bytes arrive, a step at a time, not for the declared length: a
   * client declaring 100 MB and sending 100 KB takes at most a step more than it sent, and all of
   * it comes back when it leaves.
   */
  @Test
  void takesDiskSpaceAsTheBytesArriveNotForTheDeclaredLength() throws Exception {
    MockWebServer origin = okOrigin(0);
    ProxyServer proxy = ferry.start(spooling(origin.url("/").toString()));
    try (RawClient client = new RawClient(proxy.address())) {
      client.send(uploadHead(100_000_000) + "x".repeat(100_000));
      Await.until(() -> proxy.stats().requestSpoolBytes() >= 100_000 - 32 * 1024
          && proxy.stats().activeWorkers() == 0, "the bytes sent to be on disk, the connection parked");
      assertThat(proxy.stats().requestSpoolBytes()).isLessThanOrEqualTo(100_000 + 64 * 1024);
    }
    Await.until(() -> proxy.stats().activeConnections() == 0, "the connection to end");
    assertThat(proxy.stats().requestSpoolBytes()).as("given back when the client left").isZero();
    assertThat(origin.getRequestCount()).isZero();
  }

  /**
   * When the disk budget runs out midway, the rest of the body streams: the exchange reads the
   * buffered bytes, then those on disk, then the socket's, in order. Here one stalled upload holds
   * a 64 KiB step of a 200,000-byte budget, so the second gets two steps and streams the rest.
   */
  @Test
  void streamsTheRestOfABodyInOrderWhenTheDiskBudgetRunsOut() throws Exception {
    MockWebServer origin = okOrigin(1);
    ProxyServer proxy = ferry.start(spooling(origin.url("/").toString()).requestSpoolBytes(200_000));
    String body = BODY.substring(0, 190_000);
    try (RawClient holder = new RawClient(proxy.address()).send(uploadHead(body.length()) + body.substring(0, 50_000))) {
      Await.until(() -> proxy.stats().requestSpoolBytes() == 64 * 1024, "the first upload to take a step");
      try (RawClient client = new RawClient(proxy.address())) {
        client.send(uploadHead(body.length()) + body.substring(0, 100_000));
        Await.until(() -> proxy.stats().requestSpoolBytes() == 3 * 64 * 1024, "the second upload to take two steps");
        assertThat(client.send(body.substring(100_000)).readResponse().bodyText()).isEqualTo("ok");
      }
      assertThat(origin.takeRequest(5, TimeUnit.SECONDS).getBody().readUtf8()).isEqualTo(body);
      Await.until(() -> proxy.stats().requestSpoolBytes() == 64 * 1024, "the second upload's steps to come back");
    }
  }

  /**
   * A body the disk had no room for streams, and the connection then serves its next request,
   * whose head comes in two parts. Before, the spool opened for that body stayed on the
   * connection with no room, and the next head's bytes went to it: the connection was closed
   * unanswered (found in review).
   */
  @Test
  void servesTheNextRequestAfterABodyTheDiskHadNoRoomFor() throws Exception {
    MockWebServer origin = okOrigin(2);
    ProxyServer proxy = ferry.start(spooling(origin.url("/").toString()).requestSpoolBytes(100_000));
    String body = BODY.substring(0, 90_000);
    try (RawClient holder = new RawClient(proxy.address()).send(uploadHead(body.length()) + body.substring(0, 50_000))) {
      Await.until(() -> proxy.stats().requestSpoolBytes() == 64 * 1024, "the first upload to take a step");
      try (RawClient client = new RawClient(proxy.address())) {
        client.send(uploadHead(body.length()) + body.substring(0, 40_000));
        Await.until(() -> proxy.stats().activeWorkers() == 1, "the second upload to stream on a thread");
        assertThat(client.send(body.substring(40_000)).readResponse().bodyText()).isEqualTo("ok");
        client.send("GET /next HTTP/1.1\r\n");
        Await.until(() -> proxy.stats().activeWorkers() == 0, "the connection to wait for the rest of the head");
        assertThat(client.send("Host: a\r\n\r\n").readResponse().bodyText()).isEqualTo("ok");
      }
      assertThat(origin.takeRequest(5, TimeUnit.SECONDS).getBody().readUtf8()).isEqualTo(body);
      assertThat(origin.takeRequest(5, TimeUnit.SECONDS).getPath()).isEqualTo("/next");
      assertThat(proxy.stats().requestSpoolBytes()).isEqualTo(64 * 1024);
    }
  }

  /**
   * A chunked head that fills the connection's buffer, with no request buffer to grow it, has its
   * body awaited on disk by following its framing. Before, it went to disk as if framed by a
   * length of zero, and the connection was closed unanswered (found in review).
   */
  @Test
  void awaitsAChunkedBodyWhoseHeadFillsTheBuffer() throws Exception {
    MockWebServer origin = okOrigin(1);
    ProxyServer proxy = ferry.start(spooling(origin.url("/").toString()).requestBufferBytes(0));
    String head = CHUNKED_HEAD.substring(0, CHUNKED_HEAD.length() - 2);
    String padded = head + "X-Pad: " + "p".repeat(16 * 1024 - head.length() - 11) + "\r\n\r\n";
    assertThat(padded).hasSize(16 * 1024);
    try (RawClient client = new RawClient(proxy.address())) {
      client.send(padded);
      Await.until(() -> proxy.stats().activeWorkers() == 0 && proxy.stats().requestSpoolBytes() > 0,
          "the connection to await the body on disk");
      assertThat(client.send("5\r\nhello\r\n0\r\n\r\n").readResponse().bodyText()).isEqualTo("ok");
    }
    assertThat(origin.takeRequest(5, TimeUnit.SECONDS).getBody().readUtf8()).isEqualTo("hello");
  }

  /** A body left unfinished on disk is answered 408 at the idle timeout, and its file goes. */
  @Test
  void answersASpooledBodyLeftUnfinishedWith408AtTheIdleTimeout() throws Exception {
    MockWebServer origin = okOrigin(0);
    ProxyServer proxy = ferry.start(spooling(origin.url("/").toString()).concurrency(Concurrency.boundedPool(2, 0))
        .idleTimeout(Duration.ofSeconds(2)).minRequestBodyRate(0));
    try (RawClient client = new RawClient(proxy.address())) {
      client.send(uploadHead(BODY.length()) + BODY.substring(0, 100_000));
      Await.until(() -> proxy.stats().activeWorkers() == 0 && proxy.stats().requestSpoolBytes() > 0,
          "the connection stalled mid-body to park");
      assertThat(client.readResponse().status()).isEqualTo(408);
    }
    Await.until(() -> proxy.stats().activeConnections() == 0, "the connection to end");
    assertThat(proxy.stats().requestSpoolBytes()).isZero();
  }

  /**
   * A client that leaves with its body awaited whole half sent, in memory or on disk, straight
   * away or once parked, is accounted for as {@code CLIENT_CLOSED}, as one whose body streams is;
   * none of it goes upstream. Before, it left no access line and no count (probe o12).
   */
  @ParameterizedTest(name = "body={0} parked={1}")
  @CsvSource({"8000, false", "200000, false", "200000, true"})
  void accountsForAnUploadTheClientLeavesHalfSent(int length, boolean parked) throws Exception {
    MockWebServer origin = okOrigin(1);
    BlockingQueue<ExchangeSummary> summaries = new LinkedBlockingQueue<>();
    ProxyServer proxy = ferry.start(spooling(origin.url("/").toString()).listener(new ExchangeListener() {
      @Override
      public void exchangeCompleted(ExchangeSummary summary) {
        summaries.add(summary);
      }
    }));
    try (RawClient client = new RawClient(proxy.address())) {
      client.send(uploadHead(length) + BODY.substring(0, length / 2));
      if (parked) {
        Await.until(() -> proxy.stats().activeWorkers() == 0 && proxy.stats().requestSpoolBytes() > 0,
            "the connection stalled mid-body to park");
      }
    }
    ExchangeSummary left = summaries.poll(10, TimeUnit.SECONDS);
    assertThat(left).as("the exchange reported").isNotNull();
    assertThat(left.method()).isEqualTo("POST");
    assertThat(left.failure()).hasValue("CLIENT_CLOSED");
    assertThat(proxy.stats().failures()).containsEntry("CLIENT_CLOSED", 1L);
    Await.until(() -> proxy.stats().activeConnections() == 0, "the connection to end");
    assertThat(proxy.stats().requestSpoolBytes()).isZero();
    assertThat(origin.getRequestCount()).as("requests that reached the origin").isZero();
    try (RawClient next = new RawClient(proxy.address())) {
      next.send(uploadHead(2) + "ok");
      assertThat(next.readResponse().status()).isEqualTo(200);
    }
  }

  /**
   * If no file can be created in the spool directory, the body streams as it arrives (and a
   * warning says why), rather than the request failing.
   */
  @Test
  void streamsTheBodyWhenTheSpoolDirectoryIsGone() throws Exception {
    MockWebServer origin = okOrigin(1);
    Path gone = Files.createDirectory(spoolDirectory.resolve("gone"));
    ProxyServer proxy = ferry.start(spooling(origin.url("/").toString()).requestSpoolDirectory(gone));
    Files.delete(gone);
    try (RawClient client = new RawClient(proxy.address())) {
      client.send(uploadHead(BODY.length()) + BODY.substring(0, 100_000));
      Await.until(() -> proxy.stats().activeWorkers() == 1, "a thread to take the body as it streams");
      assertThat(proxy.stats().requestSpoolBytes()).isZero();
      assertThat(client.send(BODY.substring(100_000)).readResponse().bodyText()).isEqualTo("ok");
    }
    assertThat(origin.takeRequest(5, TimeUnit.SECONDS).getBody().readUtf8()).isEqualTo(BODY);
  }

  /**
   * A client sending a large body at full speed is not slowed to the disk's pace: the body
   * (here 3 MB, all of it on the way at once) is received on disk and forwarded whole, and a
   * request pipelined behind it is served from the bytes after it, none of which the spool took.
   */
  @Test
  void forwardsALargeBodySentAtOnceAndThePipelinedRequestBehindIt() throws Exception {
    MockWebServer origin = okOrigin(2);
    ProxyServer proxy = ferry.start(spooling(origin.url("/").toString()));
    String large = BODY.repeat(15);
    try (RawClient client = new RawClient(proxy.address())) {
      client.send(uploadHead(large.length()) + large + "GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(client.readResponse().bodyText()).isEqualTo("ok");
      assertThat(client.readResponse().bodyText()).isEqualTo("ok");
    }
    assertThat(origin.takeRequest(5, TimeUnit.SECONDS).getBody().readUtf8()).isEqualTo(large);
    assertThat(origin.takeRequest(5, TimeUnit.SECONDS).getPath()).isEqualTo("/next");
  }

  /**
   * A chunked body over 16 KiB (its size unknown until it ends) is received on disk the same way:
   * three clients sending 200 KiB in 8 KiB chunks slowly all park; each body then goes upstream
   * whole. Before, such a body streamed on a thread as it arrived.
   */
  @Test
  void parksClientsSendingALargeChunkedBodySlowlyAndForwardsEachWhole() throws Exception {
    parksSlowUploadsAndForwardsEachWhole(CHUNKED_HEAD + chunked(BODY, 8192));
  }

  /**
   * The disk never takes a byte past a chunked body's end, though its size was not declared: a
   * request pipelined right behind the body's last bytes, and tiny chunks that make most of the
   * body framing, are each served in order.
   */
  @Test
  void forwardsAChunkedBodyOfTinyChunksAndThePipelinedRequestBehindIt() throws Exception {
    MockWebServer origin = okOrigin(2);
    ProxyServer proxy = ferry.start(spooling(origin.url("/").toString()));
    String body = BODY.substring(0, 40_000);
    String chunked = chunked(body, 1); // 240,005 bytes
    try (RawClient client = new RawClient(proxy.address())) {
      client.send(CHUNKED_HEAD + chunked.substring(0, 150_000)); // 25,000 data bytes: past memory's 16 KiB
      Await.until(() -> proxy.stats().requestSpoolBytes() > 0 && proxy.stats().activeWorkers() == 0,
          "the body to go to disk, the connection to park");
      client.send(chunked.substring(150_000) + "GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(client.readResponse().bodyText()).isEqualTo("ok");
      assertThat(client.readResponse().bodyText()).isEqualTo("ok");
    }
    assertThat(origin.takeRequest(5, TimeUnit.SECONDS).getBody().readUtf8()).isEqualTo(body);
    assertThat(origin.takeRequest(5, TimeUnit.SECONDS).getPath()).isEqualTo("/next");
  }

  /**
   * A chunked body that turns malformed on disk goes to its exchange, which answers 400 with
   * none of it sent upstream (before, the head and the good chunks went first).
   */
  @Test
  void answersAChunkedBodyThatTurnsMalformedOnDiskWith400() throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.answering("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
    ProxyServer proxy = ferry.start(spooling(origin.url("/")));
    try (RawClient client = new RawClient(proxy.address())) {
      client.send(CHUNKED_HEAD + chunked(BODY, 8192).substring(0, 7 * (8192 + 8))); // 7 whole chunks
      Await.until(() -> proxy.stats().requestSpoolBytes() > 0, "the body to go to disk");
      client.send("zz\r\n");
      assertThat(client.readResponse().status()).isEqualTo(400);
    }
    assertThat(origin.connectionCount()).as("connections to the upstream").isZero();
    Await.until(() -> proxy.stats().activeConnections() == 0, "the connection to end");
    assertThat(proxy.stats().requestSpoolBytes()).isZero();
  }

  private static final String CHUNKED_HEAD = "POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";

  /** {@code body} in chunks of {@code size}, with the last chunk and an empty trailer section. */
  private static String chunked(String body, int size) {
    StringBuilder chunked = new StringBuilder();
    for (int i = 0; i < body.length(); i += size) {
      String chunk = body.substring(i, Math.min(body.length(), i + size));
      chunked.append(Integer.toHexString(chunk.length())).append("\r\n").append(chunk).append("\r\n");
    }
    return chunked.append("0\r\n\r\n").toString();
  }

  private ProxyServer.Builder spooling(String origin) {
    return ProxyServer.builder().upstream(Upstream.of(origin)).requestBufferBytes(32 * 1024)
        .requestSpoolDirectory(spoolDirectory);
  }

  private static String uploadHead(long length) {
    return "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: " + length + "\r\n\r\n";
  }

  /** A mock origin that answers "ok" {@code count} times. */
  private MockWebServer okOrigin(int count) throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    for (int i = 0; i < count; i++) {
      origin.enqueue(new MockResponse().setBody("ok"));
    }
    return origin;
  }

  interface Opener {
    RawClient open() throws Exception;
  }

  /** Waits until all {@code stalled} clients are parked, then has another client served. */
  private static void servesAnotherOnceAllPark(ProxyServer proxy, int stalled, Opener opener) throws Exception {
    Await.until(() -> proxy.stats().activeConnections() == stalled && proxy.stats().activeWorkers() == 0,
        "the stalled clients to park");
    try (RawClient client = opener.open()) {
      assertThat(client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
    }
    assertThat(proxy.stats().connectionsRejected()).isZero();
  }
}
