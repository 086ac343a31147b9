package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.proxy.Concurrency;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * 1000 concurrent requests under each concurrency model, every body checked; the bounded pool's
 * thread use.
 */
class ConcurrencyModelTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  static Stream<Concurrency> models() {
    return Stream.of(Concurrency.auto(), Concurrency.boundedPool(64, 2000),
        Concurrency.threadPerConnection(2000), Concurrency.virtualThreads());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void servesThousandConcurrentRequestsWithCorrectBodies(Concurrency concurrency) throws Exception {
    assumeTrue(concurrency.kind() != Concurrency.Kind.VIRTUAL_THREADS
        || Runtime.version().feature() >= 21, "virtual threads need Java 21+");
    MockWebServer origin = ferry.mockOrigin();
    origin.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        return new MockResponse().setBody(bodyFor(request.getPath()));
      }
    });
    ProxyServer proxy = ferry.start(ProxyServer.builder().concurrency(concurrency));
    HttpClient client = HttpClient.newBuilder().proxy(ProxySelector.of(proxy.address())).build();
    List<CompletableFuture<Boolean>> results = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      String path = "/item/" + i;
      results.add(client.sendAsync(
              HttpRequest.newBuilder(URI.create(origin.url(path).toString())).build(),
              HttpResponse.BodyHandlers.ofString())
          .thenApply(r -> r.statusCode() == 200 && r.body().equals(bodyFor(path))));
    }
    CompletableFuture.allOf(results.toArray(new CompletableFuture[0])).get(60, TimeUnit.SECONDS);
    assertThat(results).allSatisfy(result -> assertThat(result.get()).isTrue());
    assertThat(proxy.stats().responsesByStatus()).containsEntry(200, 1000L);
    assertThat(proxy.stats().exchanges()).isEqualTo(1000);
  }

  /**
   * The bounded pool gives a task to an idle thread before it starts another: twenty clients one
   * after the other are served by one or two threads, not twenty (a pool whose core size was its
   * maximum started a thread per task until it had them all).
   */
  @Test
  void boundedPoolReusesAnIdleThreadBeforeStartingAnother() throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    // The pool's threads serve every GET only without the event loops.
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .concurrency(Concurrency.boundedPool(50, 100)).eventLoop(false));
    for (int i = 0; i < 20; i++) {
      try (RawClient client = new RawClient(proxy.address())) {
        assertThat(client.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").readResponse().status())
            .isEqualTo(200);
      }
      Await.until(() -> proxy.stats().activeConnections() == 0, "the connection to end");
    }
    String prefix = "ferry-worker-" + proxy.port() + "-";
    long poolThreads = Thread.getAllStackTraces().keySet().stream()
        .filter(thread -> thread.getName().startsWith(prefix)).count();
    assertThat(poolThreads).isBetween(1L, 2L);
  }

  /**
   * A pool thread keeps its own name whichever connection it serves: renaming it per connection
   * was a system call each, about 3 % of the CPU of requests on connections of their own (the
   * connection's name is in the MDC instead, {@link ProxyServer#MDC_CONNECTION}).
   */
  @Test
  void servesConnectionsWithoutRenamingThePoolsThread() throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    List<String> threadNames = new CopyOnWriteArrayList<>();
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .concurrency(Concurrency.boundedPool(1, 10))
        .filter((exchange, chain) -> {
          threadNames.add(Thread.currentThread().getName());
          return chain.proceed(exchange.request());
        }));
    for (int i = 0; i < 3; i++) {
      try (RawClient client = new RawClient(proxy.address())) {
        assertThat(client.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").readResponse().status())
            .isEqualTo(200);
      }
    }
    assertThat(threadNames).hasSize(3).allMatch(name -> name.startsWith("ferry-worker-" + proxy.port() + "-"))
        .containsOnly(threadNames.get(0));
  }

  private static String bodyFor(String path) {
    return path + ":" + Integer.toHexString(path.hashCode()) + "x".repeat(path.length() * 10);
  }
}
