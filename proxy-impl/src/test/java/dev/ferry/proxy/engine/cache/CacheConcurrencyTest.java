package dev.ferry.proxy.engine.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.CacheEntry;
import dev.ferry.proxy.CacheSpec;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import dev.ferry.proxy.engine.Await;
import dev.ferry.proxy.engine.ProxyTestExtension;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import okhttp3.mockwebserver.SocketPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Coalescing, stale-if-error, and correct bodies while hits and evictions race. */
class CacheConcurrencyTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  @Test
  void coalescesHundredSimultaneousMissesIntoOneUpstreamRequest() throws Exception {
    CacheHarness h = new CacheHarness(ferry);
    h.origin.enqueue(h.response("shared answer").setHeader("Cache-Control", "max-age=100")
        .setHeadersDelay(300, TimeUnit.MILLISECONDS));
    HttpClient client = HttpClient.newHttpClient();
    List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      responses.add(client.sendAsync(HttpRequest.newBuilder(h.uri("/hot")).build(),
          HttpResponse.BodyHandlers.ofString()));
    }
    for (CompletableFuture<HttpResponse<String>> response : responses) {
      assertThat(response.get(30, TimeUnit.SECONDS).body()).isEqualTo("shared answer");
    }
    assertThat(h.origin.getRequestCount()).isEqualTo(1);
  }

  /**
   * Identical misses that reach both event loops at once make one upstream request: the first
   * lookup takes the lead before any other can look. A loop took it only once its exchange began,
   * so a miss looked up on the other loop in between fetched beside it: on a cold proxy a burst's
   * first URL went upstream twice, every time.
   */
  @Test
  void coalescesMissesArrivingOnBothEventLoopsAtOnce() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    Map<String, AtomicInteger> asked = new ConcurrentHashMap<>();
    origin.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        asked.computeIfAbsent(request.getPath(), path -> new AtomicInteger()).incrementAndGet();
        return new MockResponse().setBody(bodyFor(request.getPath())).setHeader("Cache-Control", "max-age=100")
            .setHeadersDelay(100, TimeUnit.MILLISECONDS);
      }
    });
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .cache(CacheSpec.inMemory()).eventLoop(true));
    int clients = 12;
    ExecutorService senders = Executors.newFixedThreadPool(clients);
    try {
      for (int round = 0; round < 15; round++) {
        String path = "/burst/" + round;
        List<Socket> sockets = new ArrayList<>();
        try {
          for (int i = 0; i < clients; i++) {
            sockets.add(new Socket("127.0.0.1", proxy.port()));
          }
          CountDownLatch go = new CountDownLatch(1);
          List<Future<String>> answers = new ArrayList<>();
          for (Socket socket : sockets) {
            answers.add(senders.submit(() -> {
              go.await();
              socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: origin\r\n\r\n")
                  .getBytes(StandardCharsets.ISO_8859_1));
              return readAnswer(socket);
            }));
          }
          go.countDown();
          for (Future<String> answer : answers) {
            assertThat(answer.get(20, TimeUnit.SECONDS)).endsWith(bodyFor(path));
          }
        } finally {
          for (Socket socket : sockets) {
            socket.close();
          }
        }
        assertThat(asked.get(path)).as("upstream requests for %s", path).hasValue(1);
      }
    } finally {
      senders.shutdownNow();
      assertThat(senders.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }
  }

  /**
   * A miss that looked its URL up just before another request's fetch of it was stored, and
   * reached the coalescer just after that fetch let its waiters go, finds no fetch to wait for:
   * it must look in the store again before it leads, not fetch the URL a second time. The store's
   * lookup for the second client reads the store, then is held until the first client has its
   * whole answer (stored before its last bytes go out), as a store across a network may answer
   * late; it fetched again, a MISS, once in CI on the loops' hand-over to a thread.
   */
  @Test
  void looksInTheStoreAgainWhenTheFetchAMissCameForEndedSinceItsLookup() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    CountDownLatch answer = new CountDownLatch(1);
    origin.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
        assertThat(answer.await(20, TimeUnit.SECONDS)).isTrue();
        return new MockResponse().setBody("fetched once").setHeader("Cache-Control", "max-age=100");
      }
    });
    AtomicBoolean armed = new AtomicBoolean();
    CountDownLatch lookupHeld = new CountDownLatch(1);
    CountDownLatch firstAnswered = new CountDownLatch(1);
    CacheStoreSpiTest.MapStore store = new CacheStoreSpiTest.MapStore() {
      @Override
      public List<CacheEntry> variants(String key) {
        List<CacheEntry> found = super.variants(key);
        if (armed.compareAndSet(true, false)) {
          lookupHeld.countDown();
          awaitQuietly(firstAnswered);
        }
        return found;
      }
    };
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .cache(CacheSpec.inMemory().store(store)));
    HttpClient client = HttpClient.newHttpClient();
    HttpRequest get = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + "/late")).build();
    CompletableFuture<HttpResponse<String>> first = client.sendAsync(get, HttpResponse.BodyHandlers.ofString());
    Await.until(() -> origin.getRequestCount() == 1, "the first miss to reach the origin");
    armed.set(true);
    CompletableFuture<HttpResponse<String>> second = client.sendAsync(get, HttpResponse.BodyHandlers.ofString());
    assertThat(lookupHeld.await(20, TimeUnit.SECONDS)).as("the second miss's lookup").isTrue();
    answer.countDown();
    HttpResponse<String> fetched = first.get(20, TimeUnit.SECONDS);
    assertThat(fetched.headers().firstValue("X-Cache")).hasValue("MISS");
    firstAnswered.countDown();
    HttpResponse<String> late = second.get(20, TimeUnit.SECONDS);
    assertThat(late.body()).isEqualTo("fetched once");
    assertThat(late.headers().firstValue("X-Cache")).hasValue("HIT");
    assertThat(origin.getRequestCount()).isEqualTo(1);
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      assertThat(latch.await(20, TimeUnit.SECONDS)).isTrue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** A response's head and its body (of a Content-Length), as text. */
  private static String readAnswer(Socket socket) throws IOException {
    InputStream in = socket.getInputStream();
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        throw new EOFException("closed after " + head);
      }
      head.append((char) b);
    }
    Matcher length = Pattern.compile("(?i)content-length: *(\\d+)").matcher(head);
    assertThat(length.find()).as("a Content-Length in %s", head).isTrue();
    return head + new String(in.readNBytes(Integer.parseInt(length.group(1))), StandardCharsets.ISO_8859_1);
  }

  /**
   * Misses queued behind a request whose upstream timed out get its 504, not a full timeout of
   * their own each, one after another, with the silent origin asked every time.
   */
  @Test
  void sharesTheUpstreamTimeoutWithTheMissesWaitingOnIt() throws Exception {
    MockWebServer origin = ferry.mockOrigin();
    origin.setDispatcher(answering(() -> new MockResponse().setSocketPolicy(SocketPolicy.NO_RESPONSE)));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .upstreamTimeout(Duration.ofSeconds(2)).cache(CacheSpec.inMemory()));
    HttpClient client = HttpClient.newHttpClient();
    List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      responses.add(client.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + "/hang"))
          .build(), HttpResponse.BodyHandlers.ofString()));
    }
    for (CompletableFuture<HttpResponse<String>> response : responses) {
      assertThat(response.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(504);
    }
    assertThat(origin.getRequestCount()).as("requests the silent origin got").isEqualTo(1);
  }

  /**
   * A leader whose client leaves mid-body still fills the cache, so the misses waiting on it hit
   * instead of each going upstream (probe u11: one abort sent all ten waiters to the origin).
   */
  @Test
  void finishesTheFillWhenTheLeadersClientLeavesMidBody() throws Exception {
    CacheHarness h = new CacheHarness(ferry);
    String body = "x".repeat(200 * 1024);
    h.origin.enqueue(h.response(body).setHeader("Cache-Control", "max-age=100")
        .throttleBody(16 * 1024, 50, TimeUnit.MILLISECONDS));
    h.origin.enqueue(h.response("asked again").setHeader("Cache-Control", "max-age=100"));
    try (java.net.Socket leader = new java.net.Socket("127.0.0.1", h.uri("/").getPort())) {
      leader.getOutputStream().write(("GET /big HTTP/1.1\r\nHost: " + h.uri("/").getAuthority() + "\r\n\r\n")
          .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
      leader.getInputStream().readNBytes(4096);
      leader.setSoLinger(true, 0);
    }
    HttpResponse<String> waiter = h.get("/big");
    assertThat(waiter.body()).hasSize(body.length());
    assertThat(CacheHarness.verdict(waiter)).isEqualTo("HIT");
    assertThat(h.origin.getRequestCount()).isEqualTo(1);
  }

  /**
   * Misses the leader's answer cannot serve (another variant, a 304 to the leader's own
   * condition) go through the coalescer again: one of them fetches while the rest wait. They all
   * went upstream at once, eleven requests where two do (probe k14).
   */
  @ParameterizedTest
  @ValueSource(strings = {"Accept-Encoding=gzip", "If-None-Match=\"v1\""})
  void coalescesTheMissesALeadersAnswerCannotServe(String leaderField) throws Exception {
    CacheHarness h = new CacheHarness(ferry);
    CountDownLatch leaderAsked = new CountDownLatch(1);
    h.origin.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        leaderAsked.countDown();
        MockResponse answer = request.getHeader("If-None-Match") != null ? new MockResponse().setResponseCode(304)
            : h.response(String.valueOf(request.getHeader("Accept-Encoding")));
        return answer.setHeader("Cache-Control", "max-age=100").setHeader("ETag", "\"v1\"")
            .setHeader("Vary", "Accept-Encoding").setHeadersDelay(500, TimeUnit.MILLISECONDS);
      }
    });
    HttpClient client = HttpClient.newHttpClient();
    String[] field = leaderField.split("=", 2);
    // The followers ask for br: the leader for gzip, or for br on a condition of its own.
    HttpRequest.Builder leading = HttpRequest.newBuilder(h.uri("/v")).header(field[0], field[1]);
    if (!field[0].equals("Accept-Encoding")) {
      leading.header("Accept-Encoding", "br");
    }
    CompletableFuture<HttpResponse<String>> leader = client.sendAsync(leading.build(), HttpResponse.BodyHandlers.ofString());
    assertThat(leaderAsked.await(10, TimeUnit.SECONDS)).isTrue();
    List<CompletableFuture<HttpResponse<String>>> followers = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      followers.add(client.sendAsync(HttpRequest.newBuilder(h.uri("/v")).header("Accept-Encoding", "br").build(),
          HttpResponse.BodyHandlers.ofString()));
    }
    assertThat(leader.get(30, TimeUnit.SECONDS).statusCode()).isIn(200, 304);
    for (CompletableFuture<HttpResponse<String>> follower : followers) {
      assertThat(follower.get(30, TimeUnit.SECONDS).body()).isEqualTo("br");
    }
    assertThat(h.origin.getRequestCount()).isEqualTo(2);
  }

  @Test
  void releasesWaitersAtOnceWhenResponseIsUncacheable() throws Exception {
    CacheHarness h = new CacheHarness(ferry);
    h.origin.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        return h.response("private").setHeader("Cache-Control", "no-store");
      }
    });
    HttpClient client = HttpClient.newHttpClient();
    List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      responses.add(client.sendAsync(HttpRequest.newBuilder(h.uri("/nostore")).build(),
          HttpResponse.BodyHandlers.ofString()));
    }
    CompletableFuture.allOf(responses.toArray(new CompletableFuture[0])).get(20, TimeUnit.SECONDS);
    assertThat(h.origin.getRequestCount()).isEqualTo(20);
  }

  /**
   * Probe stream1: server-sent events the cache may store (a validator, no-cache) made a second
   * subscriber wait, without even a head, until the first one's stream ended (up to 61 s). The
   * waiters now go upstream as soon as the leader's head shows an event stream.
   */
  @Test
  void sendsAWaiterUpstreamAtOnceWhenTheLeadersAnswerIsAnEventStream() throws Exception {
    CacheHarness h = new CacheHarness(ferry);
    for (int i = 0; i < 2; i++) {
      // 40 events at one every 250 ms: a stream of about 10 s.
      h.origin.enqueue(h.response("").setHeader("Content-Type", "text/event-stream; charset=utf-8")
          .setHeader("Cache-Control", "no-cache").setHeader("ETag", "\"s\"")
          .setChunkedBody("data: tick\n\n".repeat(40), 12).throttleBody(12, 250, TimeUnit.MILLISECONDS));
    }
    HttpClient client = HttpClient.newHttpClient();
    HttpRequest events = HttpRequest.newBuilder(h.uri("/events")).build();
    HttpResponse<java.io.InputStream> first = client.send(events, HttpResponse.BodyHandlers.ofInputStream());
    try (java.io.InputStream firstEvents = first.body()) {
      assertThat(new String(firstEvents.readNBytes(12), java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("data: tick\n\n");
      HttpResponse<java.io.InputStream> second = client.sendAsync(events, HttpResponse.BodyHandlers.ofInputStream())
          .get(5, TimeUnit.SECONDS);
      try (java.io.InputStream secondEvents = second.body()) {
        assertThat(second.statusCode()).isEqualTo(200);
        assertThat(new String(secondEvents.readNBytes(12), java.nio.charset.StandardCharsets.UTF_8))
            .isEqualTo("data: tick\n\n");
      }
    }
    assertThat(h.origin.getRequestCount()).isEqualTo(2);
  }

  /**
   * A leader whose body breaks, or outgrows the entry limit only as it streams (a chunked body),
   * stores nothing: its waiters go upstream side by side, as after a head that says so. They were
   * let go one at a time, each waiting through the attempt before its own (probe h26).
   */
  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void sendsTheWaitersUpstreamTogetherWhenTheLeadersBodyIsNotStored(boolean tooLarge) throws Exception {
    CacheHarness h = new CacheHarness(ferry, CacheSpec.inMemory().maxEntryBytes(10_000));
    CountDownLatch followersWaiting = new CountDownLatch(1);
    AtomicBoolean led = new AtomicBoolean();
    CountDownLatch together = new CountDownLatch(3);
    h.origin.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
        if (led.compareAndSet(false, true)) {
          followersWaiting.await(10, TimeUnit.SECONDS);
          MockResponse answer = new MockResponse().setHeader("Cache-Control", "max-age=100");
          return tooLarge ? answer.setChunkedBody("x".repeat(50_000), 4096)
              : answer.setBody("x".repeat(5_000)).setSocketPolicy(SocketPolicy.DISCONNECT_DURING_RESPONSE_BODY);
        }
        together.countDown();
        // Answered once all three are at the origin at once, or alone after 5 s.
        String answer = together.await(5, TimeUnit.SECONDS) ? "together" : "alone";
        return h.response(answer).setHeader("Cache-Control", "no-store");
      }
    });
    HttpClient client = HttpClient.newHttpClient();
    CompletableFuture<HttpResponse<String>> leader = client.sendAsync(HttpRequest.newBuilder(h.uri("/f")).build(),
        HttpResponse.BodyHandlers.ofString());
    Await.until(() -> h.origin.getRequestCount() == 1, "the leader to ask the origin");
    List<CompletableFuture<HttpResponse<String>>> followers = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      followers.add(client.sendAsync(HttpRequest.newBuilder(h.uri("/f")).build(), HttpResponse.BodyHandlers.ofString()));
    }
    Await.until(() -> h.proxy.stats().activeExchanges() == 4, "three misses to wait on the leader");
    followersWaiting.countDown();
    leader.handle((response, failure) -> null).get(30, TimeUnit.SECONDS);
    for (CompletableFuture<HttpResponse<String>> follower : followers) {
      assertThat(follower.get(30, TimeUnit.SECONDS).body()).isEqualTo("together");
    }
  }

  /**
   * Once a URL's answer could not be stored, its next concurrent misses go upstream side by side
   * (Varnish's hit-for-miss): a long poll answered after seconds made each poller behind the
   * first wait twice as long, every time.
   */
  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void sendsConcurrentMissesOfAUrlKnownUncacheableUpstreamTogether(boolean credentials) throws Exception {
    // Uncacheable by the response's no-store, or by the requests' credentials (a burst of those
    // waited for one leader after another, probe v14).
    String policy = credentials ? "max-age=100" : "no-store";
    CacheHarness h = new CacheHarness(ferry);
    AtomicBoolean polling = new AtomicBoolean();
    CountDownLatch together = new CountDownLatch(4);
    h.origin.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
        if (!polling.get()) {
          return h.response("first").setHeader("Cache-Control", policy);
        }
        together.countDown();
        // Each poll is answered once all four are at the origin at once, or alone after 10 s.
        String answer = together.await(10, TimeUnit.SECONDS) ? "together" : "alone";
        return h.response(answer).setHeader("Cache-Control", policy);
      }
    });
    String[] authorization = credentials ? new String[] {"Authorization", "Bearer t"} : new String[0];
    assertThat(h.get("/poll", authorization).body()).isEqualTo("first");
    polling.set(true);
    HttpClient client = HttpClient.newHttpClient();
    List<CompletableFuture<HttpResponse<String>>> polls = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      HttpRequest.Builder poll = HttpRequest.newBuilder(h.uri("/poll"));
      if (credentials) {
        poll.header("Authorization", "Bearer t");
      }
      polls.add(client.sendAsync(poll.build(), HttpResponse.BodyHandlers.ofString()));
    }
    for (CompletableFuture<HttpResponse<String>> poll : polls) {
      assertThat(poll.get(60, TimeUnit.SECONDS).body()).isEqualTo("together");
    }
  }

  @Test
  void servesStaleIfErrorWhenOriginFails() throws Exception {
    CacheHarness h = new CacheHarness(ferry);
    h.origin.enqueue(h.response("last good").setHeader("Cache-Control", "max-age=10, stale-if-error=600"));
    h.get("/sie");
    h.advance(Duration.ofSeconds(60));
    h.origin.setDispatcher(answering(() -> new MockResponse().setResponseCode(503)));
    assertServedStale(h.get("/sie"));
    // However often the proxy retries a reset, every attempt fails.
    h.origin.setDispatcher(answering(() -> new MockResponse().setSocketPolicy(SocketPolicy.DISCONNECT_AFTER_REQUEST)));
    HttpResponse<String> afterReset = h.get("/sie");
    assertThat(afterReset.body()).isEqualTo("last good");
    h.advance(Duration.ofSeconds(1000));
    h.origin.setDispatcher(answering(() -> new MockResponse().setResponseCode(503)));
    assertThat(h.get("/sie").statusCode()).as("past the stale-if-error window").isEqualTo(503);
  }

  /**
   * RFC 5861 §4: the errors stale-if-error stands in for are 500, 502, 503 and 504. A 501 or a
   * 505 is the origin's final word and reaches the client (probe k25: the stale copy hid them).
   */
  @Test
  void passesOnAFinalServerAnswerThatIsNoErrorOfStaleIfError() throws Exception {
    CacheHarness h = new CacheHarness(ferry);
    h.origin.enqueue(h.response("last good").setHeader("Cache-Control", "max-age=10, stale-if-error=600"));
    h.get("/sie-final");
    h.advance(Duration.ofSeconds(60));
    for (int status : new int[] {501, 505, 511}) {
      h.origin.enqueue(new MockResponse().setResponseCode(status));
      assertThat(h.get("/sie-final").statusCode()).isEqualTo(status);
    }
    for (int status : new int[] {500, 502, 504}) {
      h.origin.enqueue(new MockResponse().setResponseCode(status));
      assertServedStale(h.get("/sie-final"));
    }
  }

  /** Stale on arrival and without a validator, it is kept for the error it may stand in for. */
  @Test
  void storesAResponseStaleOnArrivalForStaleIfError() throws Exception {
    CacheHarness h = new CacheHarness(ferry);
    h.origin.enqueue(h.response("last good").setHeader("Cache-Control", "max-age=0, stale-if-error=600"));
    h.get("/sie-now");
    h.advance(Duration.ofSeconds(1));
    h.origin.enqueue(new MockResponse().setResponseCode(500));
    assertServedStale(h.get("/sie-now"));
    // Without stale-if-error such a response is not worth storing: nothing could reuse it.
    h.origin.enqueue(h.response("once").setHeader("Cache-Control", "max-age=0"));
    h.origin.enqueue(h.response("twice").setHeader("Cache-Control", "max-age=0"));
    h.get("/zero");
    assertThat(h.get("/zero").headers().firstValue("X-Cache")).hasValue("MISS");
    assertThat(h.cache().stats().entries()).isEqualTo(1);
  }

  private static void assertServedStale(HttpResponse<String> response) {
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("last good");
    assertThat(response.headers().firstValue("X-Cache")).hasValue("STALE");
  }

  /** s-maxage implies proxy-revalidate (RFC 9111 §5.2.2.10), which stale-if-error does not lift (§4.2.4). */
  @Test
  void neverServesStaleIfErrorUnderSMaxage() throws Exception {
    CacheHarness h = new CacheHarness(ferry);
    h.origin.enqueue(h.response("last good").setHeader("Cache-Control", "s-maxage=10, stale-if-error=600"));
    h.get("/shared");
    h.advance(Duration.ofSeconds(60));
    h.origin.setDispatcher(answering(() -> new MockResponse().setResponseCode(503)));
    assertThat(h.get("/shared").statusCode()).isEqualTo(503);
  }

  @Test
  void returnsCorrectBodiesWhileHitsAndEvictionsRace() throws Exception {
    CacheHarness h = new CacheHarness(ferry, CacheSpec.inMemory().maxSizeBytes(1 << 20).maxEntryBytes(50_000));
    h.origin.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        return h.response(bodyFor(request.getPath())).setHeader("Cache-Control", "max-age=1000");
      }
    });
    HttpClient client = HttpClient.newHttpClient();
    List<CompletableFuture<Boolean>> checks = new ArrayList<>();
    for (int i = 0; i < 600; i++) {
      String path = "/item/" + (i * 7919 % 120);
      checks.add(client.sendAsync(HttpRequest.newBuilder(h.uri(path)).build(),
          HttpResponse.BodyHandlers.ofString()).thenApply(r -> checksum(r.body()) == checksum(bodyFor(path))));
    }
    for (CompletableFuture<Boolean> check : checks) {
      assertThat(check.get(60, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(h.cache().stats().bytes()).isLessThanOrEqualTo(1 << 20);
    assertThat(h.cache().stats().hits()).isPositive();
  }

  private static Dispatcher answering(java.util.function.Supplier<MockResponse> response) {
    return new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        return response.get();
      }
    };
  }

  private static String bodyFor(String path) {
    return (path + ":").repeat(20_000 / path.length());
  }

  private static long checksum(String body) {
    CRC32 crc = new CRC32();
    crc.update(body.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    return crc.getValue();
  }
}
