package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue #14: a large fixed-length response between plain sockets is relayed through a direct
 * buffer rather than copied through the heap. The relay must keep every promise of the stream
 * path: exact bytes, the upstream connection reused afterwards, an upstream that falls short or
 * stalls cuts the client's response off (never a shorter body passed as whole), and the next
 * request is served.
 */
class LargeResponseRelayTest {
  private static final int SIZE = 300_000;
  private static final byte[] BODY = randomBytes(SIZE);

  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  @Test
  void relaysLargeBodiesExactlyAndReusesTheUpstreamConnection() throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.answering(head(SIZE) + latin1(BODY)));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/"))));
    try (RawClient raw = new RawClient(proxy.address())) {
      for (int i = 0; i < 3; i++) {
        RawClient.RawResponse response = raw.send("GET /big HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
        assertThat(response.status()).isEqualTo(200);
        assertThat(response.body()).isEqualTo(BODY);
      }
      assertThat(raw.send("HEAD /big HTTP/1.1\r\nHost: a\r\n\r\n").readResponse(true).header("content-length"))
          .isEqualTo(String.valueOf(SIZE));
    }
    assertThat(origin.connectionCount()).isEqualTo(1);
  }

  /**
   * The part of a body that came with its head is passed on at once, not held until more of the
   * body arrives to go out with it in one write: the origin sends the rest only once the client
   * has that part.
   */
  @Test
  void passesOnTheBytesThatCameWithTheHeadBeforeTheRestArrives() throws Exception {
    int first = 1_000;
    CountDownLatch clientHasFirstPart = new CountDownLatch(1);
    TinyOrigin origin = ferry.track(new TinyOrigin((socket, in, out) -> {
      requestPath(in);
      out.write(head(SIZE).getBytes(StandardCharsets.ISO_8859_1));
      out.write(BODY, 0, first);
      out.flush();
      try {
        clientHasFirstPart.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      out.write(BODY, first, SIZE - first);
      out.flush();
    }));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/"))));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.socket().setSoTimeout(5_000);
      raw.send("GET /big HTTP/1.1\r\nHost: a\r\n\r\n");
      InputStream in = raw.input();
      assertThat(TinyOrigin.readLine(in)).isEqualTo("HTTP/1.1 200 OK");
      while (!TinyOrigin.readLine(in).isEmpty()) {
        // skip the head
      }
      byte[] body = in.readNBytes(first);
      clientHasFirstPart.countDown();
      byte[] rest = in.readNBytes(SIZE - first);
      assertThat(body).isEqualTo(Arrays.copyOf(BODY, first));
      assertThat(rest).isEqualTo(Arrays.copyOfRange(BODY, first, SIZE));
    }
  }

  @Test
  void cutsTheClientOffWhenTheUpstreamClosesShortOfItsLength() throws Exception {
    TinyOrigin origin = ferry.track(sendingPartOfTheBody("/short", SIZE / 3, () -> {}));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/"))));
    assertCutOffAfter(proxy, "/short", SIZE / 3);
  }

  @Test
  void cutsTheClientOffWhenTheUpstreamStallsMidBody() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    TinyOrigin origin = stallingAfter(SIZE / 2, release);
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .upstreamTimeout(Duration.ofMillis(400)));
    try {
      assertCutOffAfter(proxy, "/stall", SIZE / 2);
    } finally {
      release.countDown();
    }
  }

  @Test
  void answers502WhenTheUpstreamClosesBeforeAnyOfALargeBody() throws Exception {
    TinyOrigin origin = ferry.track(sendingPartOfTheBody("/empty", 0, () -> {}));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/"))));
    assertAnsweredInstead(proxy, "/empty", 502, "UPSTREAM_BAD_RESPONSE");
  }

  @Test
  void answers502WhenTheUpstreamClosesBeforeAnyOfASmallBody() throws Exception {
    TinyOrigin origin = ferry.track(new TinyOrigin((socket, in, out) -> {
      String path = requestPath(in);
      out.write((path.equals("/small") ? head(100) : head(2) + "ok").getBytes(StandardCharsets.ISO_8859_1));
    }));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/"))));
    assertAnsweredInstead(proxy, "/small", 502, "UPSTREAM_BAD_RESPONSE");
  }

  @Test
  void answers504WhenTheUpstreamStallsBeforeAnyBodyByte() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    TinyOrigin origin = stallingAfter(0, release);
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .upstreamTimeout(Duration.ofMillis(400)));
    try {
      assertAnsweredInstead(proxy, "/stall", 504, "UPSTREAM_TIMEOUT");
    } finally {
      release.countDown();
    }
  }

  /** An origin that sends {@code bytes} of the body of {@code /stall}, then waits for {@code release}. */
  private TinyOrigin stallingAfter(int bytes, CountDownLatch release) throws Exception {
    return ferry.track(sendingPartOfTheBody("/stall", bytes, () -> {
      try {
        release.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }));
  }

  /**
   * Nothing of the upstream's response had reached the client when its body failed: the client
   * gets the error status instead, the connection closes, and the next client is served.
   */
  private static void assertAnsweredInstead(ProxyServer proxy, String path, int status, String failure)
      throws IOException {
    try (RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse response = raw.send("GET " + path + " HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
      assertThat(response.status()).isEqualTo(status);
      assertThat(response.header("connection")).isEqualTo("close");
      assertThat(raw.input().read()).isEqualTo(-1);
    }
    assertThat(proxy.stats().responsesByStatus()).as("the upstream's status, taken back, is not listed")
        .containsOnlyKeys(status);
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET /next HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText()).isEqualTo("ok");
    }
    assertThat(proxy.stats().failures()).containsEntry(failure, 1L).doesNotContainKey("RESPONSE_ABORTED");
    assertThat(proxy.stats().responsesByStatus()).containsEntry(status, 1L).containsEntry(200, 1L);
  }

  /**
   * An origin that answers {@code path} with the head of a {@code SIZE}-byte body, its first
   * {@code sent} bytes, then runs {@code then} and closes; any other path gets "ok".
   */
  private static TinyOrigin sendingPartOfTheBody(String path, int sent, Runnable then) throws IOException {
    return new TinyOrigin((socket, in, out) -> {
      if (!requestPath(in).equals(path)) {
        out.write((head(2) + "ok").getBytes(StandardCharsets.ISO_8859_1));
        return;
      }
      out.write(head(SIZE).getBytes(StandardCharsets.ISO_8859_1));
      out.write(BODY, 0, sent);
      out.flush();
      then.run();
    });
  }

  /** The client gets the head and {@code sent} bytes, then the close; the next client is served. */
  private static void assertCutOffAfter(ProxyServer proxy, String path, int sent) throws IOException {
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET " + path + " HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(readAfterHead(raw.input())).isEqualTo(sent);
    }
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET /next HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText()).isEqualTo("ok");
    }
    assertThat(proxy.stats().failures()).containsEntry("RESPONSE_ABORTED", 1L);
  }

  private static String head(int length) {
    return "HTTP/1.1 200 OK\r\nContent-Length: " + length + "\r\n\r\n";
  }

  /** Reads a request head and returns its path. */
  private static String requestPath(InputStream in) throws IOException {
    String requestLine = TinyOrigin.readLine(in);
    while (!TinyOrigin.readLine(in).isEmpty()) {
      // skip the head
    }
    return requestLine.split(" ")[1];
  }

  /** Skips a response head and counts the body bytes until the proxy closes the connection. */
  private static long readAfterHead(InputStream in) throws IOException {
    assertThat(TinyOrigin.readLine(in)).isEqualTo("HTTP/1.1 200 OK");
    while (!TinyOrigin.readLine(in).isEmpty()) {
      // skip the head
    }
    long count = 0;
    byte[] buffer = new byte[8192];
    for (int n; (n = in.read(buffer)) > 0; ) {
      count += n;
    }
    return count;
  }

  private static String latin1(byte[] bytes) {
    return new String(bytes, StandardCharsets.ISO_8859_1);
  }

  private static byte[] randomBytes(int size) {
    byte[] bytes = new byte[size];
    new Random(14).nextBytes(bytes);
    return bytes;
  }
}
