package dev.ferry.proxy.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.StringReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReplayTest {

  private static HttpResponse<String> get(RecordingProxy proxy, String url) throws Exception {
    HttpClient client = proxy.httpClientBuilder().build();
    return client.send(HttpRequest.newBuilder(URI.create(url)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> post(RecordingProxy proxy, String url, String body)
      throws Exception {
    HttpClient client = proxy.httpClientBuilder().build();
    return client.send(HttpRequest.newBuilder(URI.create(url))
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void replaysOfflineFromAHarFileAndExplainsMisses(@TempDir Path dir) throws Exception {
    Path har = dir.resolve("orders.har");
    String base;
    try (MockWebServer origin = new MockWebServer()) {
      origin.enqueue(new MockResponse().setResponseCode(201).setHeader("X-Id", "9").setBody("created"));
      origin.enqueue(new MockResponse().setBody("list"));
      origin.start();
      base = "http://127.0.0.1:" + origin.getPort();
      try (RecordingProxy recorder = RecordingProxy.forward().start()) {
        post(recorder, base + "/orders", "{}");
        get(recorder, base + "/orders?page=1");
        recorder.recording().awaitExchanges(2, Duration.ofSeconds(5));
        recorder.recording().writeHar(har);
      }
    }
    // The origin is gone: every answer now comes from the file.
    try (RecordingProxy replay = RecordingProxy.forward().replay(har).start()) {
      HttpResponse<String> created = post(replay, base + "/orders", "{}");
      assertThat(created.statusCode()).isEqualTo(201);
      assertThat(created.headers().firstValue("X-Id")).contains("9");
      assertThat(created.body()).isEqualTo("created");
      assertThat(get(replay, base + "/orders?page=1").body()).isEqualTo("list");

      HttpResponse<String> miss = get(replay, base + "/orders?page=2");
      assertThat(miss.statusCode()).isEqualTo(502);
      assertThat(miss.body())
          .contains("no recorded exchange matches GET " + base + "/orders?page=2")
          .contains("Nearest recorded requests:")
          .contains("GET " + base + "/orders?page=1");

      replay.recording().awaitExchanges(3, Duration.ofSeconds(5));
      assertThat(replay.recording().exchanges(e -> e.replayed())).hasSize(2);
      assertThat(replay.recording().exchanges(e -> e.unmatched())).hasSize(1);
    }
  }

  @Test
  void replaysRepeatedRequestsInRecordedOrder() throws Exception {
    String base;
    Recording recorded;
    try (MockWebServer origin = new MockWebServer()) {
      origin.enqueue(new MockResponse().setBody("pending"));
      origin.enqueue(new MockResponse().setBody("done"));
      origin.start();
      base = "http://127.0.0.1:" + origin.getPort();
      try (RecordingProxy recorder = RecordingProxy.forward().start()) {
        get(recorder, base + "/job");
        get(recorder, base + "/job");
        recorder.recording().awaitExchanges(2, Duration.ofSeconds(5));
        recorded = recorder.recording();
      }
    }
    try (RecordingProxy replay = RecordingProxy.forward().replay(recorded).start()) {
      assertThat(get(replay, base + "/job").body()).isEqualTo("pending");
      assertThat(get(replay, base + "/job").body()).isEqualTo("done");
      assertThat(get(replay, base + "/job").body()).as("the last one repeats").isEqualTo("done");
    }
  }

  @Test
  void matchesOnBodyWhenAskedTo() throws Exception {
    String base;
    Recording recorded;
    try (MockWebServer origin = new MockWebServer()) {
      origin.enqueue(new MockResponse().setBody("for a"));
      origin.enqueue(new MockResponse().setBody("for b"));
      origin.start();
      base = "http://127.0.0.1:" + origin.getPort();
      try (RecordingProxy recorder = RecordingProxy.forward().start()) {
        post(recorder, base + "/q", "a");
        post(recorder, base + "/q", "b");
        recorder.recording().awaitExchanges(2, Duration.ofSeconds(5));
        recorded = recorder.recording();
      }
    }
    try (RecordingProxy replay = RecordingProxy.forward().replay(recorded)
        .replayMatcher(ReplayMatcher.methodAndUrl().and(ReplayMatcher.body())).start()) {
      assertThat(post(replay, base + "/q", "b").body()).isEqualTo("for b");
      assertThat(post(replay, base + "/q", "a").body()).isEqualTo("for a");
      HttpResponse<String> miss = post(replay, base + "/q", "c");
      assertThat(miss.statusCode()).isEqualTo(502);
      assertThat(miss.body()).as("a miss says what part differed")
          .contains("A recorded request has this method and target: the matcher's other conditions")
          .as("and shows the bodies (probe testkit F7)").contains("Its body: a\n").contains("This body: c\n");
    }
  }

  @Test
  void recordsWhatIsMissingThenRunsOffline(@TempDir Path dir) throws Exception {
    Path har = dir.resolve("cassettes/users.har");
    String base;
    try (MockWebServer origin = new MockWebServer()) {
      origin.enqueue(new MockResponse().setBody("alice"));
      origin.enqueue(new MockResponse().setBody("bob"));
      origin.start();
      base = "http://127.0.0.1:" + origin.getPort();
      try (RecordingProxy first = RecordingProxy.forward().recordIfMissing(har).start()) {
        assertThat(get(first, base + "/users/1").body()).isEqualTo("alice");
        first.recording().awaitExchanges(1, Duration.ofSeconds(5));
      }
      assertThat(har).exists();
      try (RecordingProxy second = RecordingProxy.forward().recordIfMissing(har).start()) {
        assertThat(get(second, base + "/users/1").body()).as("from the file").isEqualTo("alice");
        assertThat(get(second, base + "/users/2").body()).as("recorded now").isEqualTo("bob");
        second.recording().awaitExchanges(2, Duration.ofSeconds(5));
      }
      assertThat(origin.getRequestCount()).isEqualTo(2);
    }
    String saved = Files.readString(har);
    try (RecordingProxy offline = RecordingProxy.forward().replay(har).start()) {
      assertThat(get(offline, base + "/users/1").body()).isEqualTo("alice");
      assertThat(get(offline, base + "/users/2").body()).isEqualTo("bob");
    }
    assertThat(Files.readString(har)).as("replay leaves the file alone").isEqualTo(saved);
  }

  /**
   * Latency and bandwidth faults leave the origin's answer as it was: record-if-missing saves it
   * (it used to leave out every exchange with a fault). A status fault changes it: not saved.
   */
  @Test
  void savesExchangesSlowedByAFaultButNotThoseItChanged(@TempDir Path dir) throws Exception {
    Path har = dir.resolve("faults.har");
    try (MockWebServer origin = new MockWebServer()) {
      origin.enqueue(new MockResponse().setBody("slow"));
      origin.enqueue(new MockResponse().setBody("throttled"));
      origin.enqueue(new MockResponse().setBody("changed"));
      origin.start();
      String base = "http://127.0.0.1:" + origin.getPort();
      try (RecordingProxy first = RecordingProxy.forward().recordIfMissing(har)
          .fault(e -> e.path("/slow"), Fault.latency(Duration.ofMillis(20)))
          .fault(e -> e.path("/throttled"), Fault.bandwidth(1_000_000))
          .fault(e -> e.path("/changed"), Fault.status(503)).start()) {
        assertThat(get(first, base + "/slow").body()).isEqualTo("slow");
        assertThat(get(first, base + "/throttled").body()).isEqualTo("throttled");
        assertThat(get(first, base + "/changed").statusCode()).isEqualTo(503);
        first.recording().awaitExchanges(3, Duration.ofSeconds(5));
      }
    }
    Recording saved = Recording.fromHar(har);
    assertThat(saved.exchanges()).extracting(e -> e.request().path())
        .containsExactlyInAnyOrder("/slow", "/throttled");
  }

  /**
   * A reverse proxy's recorded URLs name its own address, a new ephemeral port in every run (and
   * its origin's often is too): its replay matches the method and the target.
   */
  @Test
  void replaysAReverseRecordingOnAnotherPort(@TempDir Path dir) throws Exception {
    Path har = dir.resolve("reverse.har");
    try (MockWebServer origin = new MockWebServer()) {
      origin.enqueue(new MockResponse().setBody("alice"));
      origin.start();
      try (RecordingProxy first = RecordingProxy.inFrontOf(origin).recordIfMissing(har).start()) {
        assertThat(get(first, first.baseUri() + "users/1?v=2").body()).isEqualTo("alice");
      }
    }
    String saved = Files.readString(har);
    try (RecordingProxy second = RecordingProxy.reverse(() -> URI.create("http://127.0.0.1:9"))
        .recordIfMissing(har).start()) {
      HttpResponse<String> replayed = get(second, second.baseUri() + "users/1?v=2");
      assertThat(replayed.body()).as("from the file, the origin gone").isEqualTo("alice");
      assertThat(get(second, second.baseUri() + "users/1").statusCode()).as("another target").isEqualTo(502);
      second.recording().awaitExchanges(2, Duration.ofSeconds(5));
      assertThat(second.recording().exchanges(e -> e.replayed())).hasSize(1);
    }
    assertThat(Files.readString(har)).as("nothing new to save").isEqualTo(saved);
  }

  /**
   * Proxies of concurrent tests recording into one file each add to it; none overwrites another.
   * Closing a proxy again saves nothing more.
   */
  @Test
  void keepsTheExchangesOfEveryProxyRecordingIntoOneFile(@TempDir Path dir) throws Exception {
    Path har = dir.resolve("shared.har");
    try (MockWebServer origin = new MockWebServer()) {
      origin.enqueue(new MockResponse().setBody("a"));
      origin.enqueue(new MockResponse().setBody("b"));
      origin.start();
      String base = "http://127.0.0.1:" + origin.getPort();
      RecordingProxy first = RecordingProxy.forward().recordIfMissing(har).start();
      try (RecordingProxy second = RecordingProxy.forward().recordIfMissing(har).start()) {
        get(first, base + "/a");
        get(second, base + "/b");
        first.close();
      } finally {
        first.close();
      }
    }
    assertThat(Recording.fromHar(har).exchanges()).extracting(e -> e.request().path())
        .containsExactlyInAnyOrder("/a", "/b");
  }

  /**
   * A HEAD's answer and a 304 carry the Content-Length of the representation they describe, with
   * no body. Replay used to drop it and frame the recorded empty body instead, so a client that
   * checks a download's size with HEAD worked live and broke on replay.
   */
  @Test
  void replaysTheRecordedContentLengthOfHeadAnd304Answers(@TempDir Path dir) throws Exception {
    Path har = dir.resolve("head.har");
    String base;
    HttpRequest.Builder head;
    HttpRequest.Builder conditional;
    try (MockWebServer origin = new MockWebServer()) {
      origin.enqueue(new MockResponse().setHeader("Content-Type", "application/zip")
          .setHeader("Content-Length", "1234"));
      origin.enqueue(new MockResponse().setResponseCode(304).setHeader("ETag", "\"v1\"")
          .setHeader("Content-Length", "1234"));
      origin.start();
      base = "http://127.0.0.1:" + origin.getPort();
      head = HttpRequest.newBuilder(URI.create(base + "/file.zip"))
          .method("HEAD", HttpRequest.BodyPublishers.noBody());
      conditional = HttpRequest.newBuilder(URI.create(base + "/file.zip")).header("If-None-Match", "\"v1\"");
      try (RecordingProxy recorder = RecordingProxy.forward().start()) {
        assertThat(contentLength(recorder, head)).as("live HEAD").contains("1234");
        assertThat(contentLength(recorder, conditional)).as("live 304").contains("1234");
        recorder.recording().awaitExchanges(2, Duration.ofSeconds(5));
        recorder.recording().writeHar(har);
      }
    }
    try (RecordingProxy replay = RecordingProxy.forward().replay(har).start()) {
      assertThat(contentLength(replay, head)).as("replayed HEAD").contains("1234");
      assertThat(contentLength(replay, conditional)).as("replayed 304").contains("1234");
      replay.recording().awaitExchanges(2, Duration.ofSeconds(5));
      assertThat(replay.recording().exchanges(e -> e.replayed())).hasSize(2);
    }
  }

  private static Optional<String> contentLength(RecordingProxy proxy, HttpRequest.Builder request)
      throws Exception {
    HttpResponse<Void> response = proxy.httpClientBuilder().build().send(request.build(),
        HttpResponse.BodyHandlers.discarding());
    return response.headers().firstValue("Content-Length");
  }

  /**
   * A response that broke off live (the origin closed mid-body) breaks off after the same bytes
   * in replay; it used to be answered whole, a 200 with the bytes that came, so a test that
   * failed live passed offline (probe t22).
   */
  @Test
  void replaysAResponseThatBrokeOffLiveBrokenOff(@TempDir Path dir) throws Exception {
    Path har = dir.resolve("cut.har");
    String base;
    try (MockWebServer origin = new MockWebServer()) {
      origin.enqueue(new MockResponse().setBody("x".repeat(100_000))
          .setSocketPolicy(okhttp3.mockwebserver.SocketPolicy.DISCONNECT_DURING_RESPONSE_BODY));
      origin.start();
      base = "http://127.0.0.1:" + origin.getPort();
      try (RecordingProxy recorder = RecordingProxy.forward().start()) {
        String url = base + "/download";
        assertThatThrownBy(() -> get(recorder, url)).as("live").isInstanceOf(java.io.IOException.class);
        RecordedExchange cut = recorder.recording().awaitExchange(e -> e.path("/download"), Duration.ofSeconds(5));
        assertThat(cut.failure()).isPresent();
        recorder.recording().writeHar(har);
      }
    }
    try (RecordingProxy replay = RecordingProxy.forward().replay(har).start()) {
      String url = base + "/download";
      assertThatThrownBy(() -> get(replay, url)).as("replayed").isInstanceOf(java.io.IOException.class);
      RecordedExchange replayed = replay.recording().awaitExchange(e -> e.path("/download"), Duration.ofSeconds(5));
      assertThat(replayed.replayed()).isTrue();
      assertThat(replayed.failure()).isPresent();
    }
  }

  /** A body the recording cut at maxBodyBytes is not replayed as if it were the whole body. */
  @Test
  void refusesToReplayABodyTheRecordingCut() throws Exception {
    String base;
    Recording recorded;
    try (MockWebServer origin = new MockWebServer()) {
      origin.enqueue(new MockResponse().setBody("x".repeat(2000)));
      origin.start();
      base = "http://127.0.0.1:" + origin.getPort();
      try (RecordingProxy recorder = RecordingProxy.forward().maxBodyBytes(1000).start()) {
        assertThat(get(recorder, base + "/big").body()).hasSize(2000);
        recorder.recording().awaitExchanges(1, Duration.ofSeconds(5));
        recorded = recorder.recording();
      }
    }
    try (RecordingProxy replay = RecordingProxy.forward().replay(recorded).start()) {
      HttpResponse<String> answer = get(replay, base + "/big");
      assertThat(answer.statusCode()).isEqualTo(502);
      assertThat(answer.body()).contains("holds 1000 of its 2000 bytes");
      // Flagged as no recording answered it, so failOnUnexpectedTraffic sees it (probe testkit F2).
      RecordedExchange refused = replay.recording().awaitExchanges(1, Duration.ofSeconds(5)).get(0);
      assertThat(refused.unmatched()).isTrue();
      assertThat(refused.replayed()).isFalse();
    }
  }

  /**
   * A HAR entry whose body the writing tool left out (Chrome writes content.size alone) is not
   * replayed as an empty body; it used to be, with Content-Length 0.
   */
  @Test
  void refusesToReplayABodyTheHarLeftOut() throws Exception {
    String har = "{\"log\":{\"version\":\"1.2\",\"creator\":{\"name\":\"WebInspector\",\"version\":\"1\"},"
        + "\"entries\":[{\"startedDateTime\":\"2024-05-01T10:00:00.000Z\",\"time\":1,"
        + "\"request\":{\"method\":\"GET\",\"url\":\"http://127.0.0.1:9/kept-out\",\"httpVersion\":\"HTTP/1.1\","
        + "\"headers\":[],\"queryString\":[],\"cookies\":[],\"headersSize\":-1,\"bodySize\":0},"
        + "\"response\":{\"status\":200,\"statusText\":\"OK\",\"httpVersion\":\"HTTP/1.1\",\"headers\":[],"
        + "\"cookies\":[],\"content\":{\"size\":5,\"mimeType\":\"text/plain\"},\"redirectURL\":\"\","
        + "\"headersSize\":-1,\"bodySize\":5},\"cache\":{},\"timings\":{\"send\":0,\"wait\":1,\"receive\":0}}]}}";
    try (RecordingProxy replay = RecordingProxy.forward().replay(Recording.fromHar(new StringReader(har))).start()) {
      HttpResponse<String> answer = get(replay, "http://127.0.0.1:9/kept-out");
      assertThat(answer.statusCode()).isEqualTo(502);
      assertThat(answer.body()).contains("holds 0 of its 5 bytes");
    }
    // Nor is one written with an empty text beside its size (probe testkit F3: an empty 200).
    String emptyText = har.replace("\"content\":{\"size\":5,", "\"content\":{\"size\":5,\"text\":\"\",");
    assertThat(emptyText).contains("\"text\":\"\"");
    try (RecordingProxy replay = RecordingProxy.forward().replay(Recording.fromHar(new StringReader(emptyText))).start()) {
      HttpResponse<String> answer = get(replay, "http://127.0.0.1:9/kept-out");
      assertThat(answer.statusCode()).isEqualTo(502);
      assertThat(answer.body()).contains("holds 0 of its 5 bytes");
    }
  }

  /**
   * Forks recording into one file (surefire's forkCount) replace it whole, under a lock on
   * {@code <har>.lock}: a reader never sees a half-written file, and no save loses another's
   * entries. The save truncated the file and streamed into it (probe t24).
   */
  @Test
  void neverShowsAHalfWrittenFileWhileProxiesSaveIntoIt(@TempDir Path dir) throws Exception {
    Path har = dir.resolve("shared.har");
    int rounds = 12;
    int requests = 4;
    try (MockWebServer origin = answeringEverything("y".repeat(4000))) {
      String base = "http://127.0.0.1:" + origin.getPort();
      AtomicBoolean writing = new AtomicBoolean(true);
      ExecutorService threads = Executors.newFixedThreadPool(3);
      try {
        Future<Integer> reads = threads.submit(() -> readWhile(har, writing));
        List<Future<?>> writers = new ArrayList<>();
        for (String name : List.of("a", "b")) {
          writers.add(threads.submit(() -> recordRounds(base + "/" + name, rounds, requests, har)));
        }
        for (Future<?> writer : writers) {
          writer.get(40, TimeUnit.SECONDS);
        }
        writing.set(false);
        assertThat(reads.get(10, TimeUnit.SECONDS)).as("complete reads").isPositive();
      } finally {
        writing.set(false);
        threads.shutdownNow();
      }
    }
    assertThat(Recording.fromHar(har).exchanges()).hasSize(2 * rounds * requests);
  }

  /** A save waits while another JVM holds the HAR's lock file, then adds to what the file holds. */
  @Test
  void waitsForAnotherJvmThatHoldsTheFileLock(@TempDir Path dir) throws Exception {
    Path har = dir.resolve("forked.har");
    Process holder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), HarLockHolder.class.getName(),
        har.resolveSibling("forked.har.lock").toString()).redirectErrorStream(true).start();
    ExecutorService closer = Executors.newSingleThreadExecutor();
    try (MockWebServer origin = answeringEverything("z")) {
      BufferedReader said = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
      assertThat(said.readLine()).isEqualTo("locked");
      RecordingProxy proxy = RecordingProxy.forward().recordIfMissing(har).start();
      get(proxy, "http://127.0.0.1:" + origin.getPort() + "/while-locked");
      proxy.recording().awaitExchanges(1, Duration.ofSeconds(5));
      Future<?> save = closer.submit(proxy::close);
      assertThatThrownBy(() -> save.get(500, TimeUnit.MILLISECONDS)).as("saved while locked")
          .isInstanceOf(TimeoutException.class);
      holder.getOutputStream().close();
      save.get(20, TimeUnit.SECONDS);
    } finally {
      holder.destroy();
      closer.shutdownNow();
    }
    assertThat(Recording.fromHar(har).exchanges()).extracting(e -> e.request().path())
        .containsExactly("/while-locked");
  }

  private static MockWebServer answeringEverything(String body) throws Exception {
    MockWebServer origin = new MockWebServer();
    origin.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        return new MockResponse().setBody(body);
      }
    });
    origin.start();
    return origin;
  }

  private static Void recordRounds(String base, int rounds, int requests, Path har) throws Exception {
    for (int round = 0; round < rounds; round++) {
      try (RecordingProxy proxy = RecordingProxy.forward().recordIfMissing(har).start()) {
        for (int i = 0; i < requests; i++) {
          assertThat(get(proxy, base + "/" + round + "/" + i).statusCode()).isEqualTo(200);
        }
        proxy.recording().awaitExchanges(requests, Duration.ofSeconds(5));
      }
    }
    return null;
  }

  /** Reads the file over and over while it is being written; fails on the first bad read. */
  private static int readWhile(Path har, AtomicBoolean writing) {
    int reads = 0;
    while (writing.get()) {
      if (Files.exists(har)) {
        Recording.fromHar(har);
        reads++;
      }
    }
    return reads;
  }
}
