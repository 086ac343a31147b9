package dev.ferry.proxy.engine.cache;

import static dev.ferry.proxy.engine.cache.CacheHarness.verdict;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.CacheEntry;
import dev.ferry.proxy.CacheSpec;
import dev.ferry.proxy.CacheStore;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import dev.ferry.proxy.engine.ProxyTestExtension;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The storage SPI: any {@link CacheStore} takes the default's place, and proxies can share one. */
class CacheStoreSpiTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  /** A store the way a shared tier would be: entries by key, no knowledge of HTTP caching. */
  static class MapStore implements CacheStore {
    final ConcurrentHashMap<String, List<CacheEntry>> entries = new ConcurrentHashMap<>();

    @Override
    public List<CacheEntry> variants(String key) {
      return entries.getOrDefault(key, List.of());
    }

    @Override
    public void put(String key, CacheEntry entry) {
      entries.compute(key, (k, old) -> {
        List<CacheEntry> variants = new ArrayList<>(List.of(entry));
        if (old != null) {
          old.stream().filter(e -> !e.variantKey().equals(entry.variantKey())).forEach(variants::add);
        }
        return List.copyOf(variants);
      });
    }

    @Override
    public boolean remove(String key) {
      return entries.remove(key) != null;
    }

    @Override
    public void removeIf(Predicate<String> key) {
      entries.keySet().removeIf(key);
    }

    @Override
    public void clear() {
      entries.clear();
    }

    @Override
    public long entryCount() {
      return entries.values().stream().mapToLong(List::size).sum();
    }

    @Override
    public long byteCount() {
      return entries.values().stream().flatMap(List::stream).mapToLong(CacheEntry::weightBytes).sum();
    }

    @Override
    public long evictionCount() {
      return 0;
    }
  }

  @Test
  void sharesEntriesBetweenProxiesThroughOneStore() throws Exception {
    MapStore store = new MapStore();
    CacheHarness first = new CacheHarness(ferry, CacheSpec.inMemory().store(store));
    first.origin.enqueue(first.response("from the first origin").setHeader("Cache-Control", "max-age=100"));
    first.get("/shared");
    assertThat(store.entryCount()).isEqualTo(1);
    CacheEntry stored = store.variants(first.uri("/shared").toString()).get(0);
    assertThat(stored.status()).isEqualTo(200);
    assertThat(stored.bodyLength()).isEqualTo("from the first origin".length());

    ProxyServer second = ferry.start(ProxyServer.builder()
        .upstream(Upstream.of(first.origin.url("/").toString()))
        .cache(CacheSpec.inMemory().store(store).clock(first.clock)));
    // Same Host (the first proxy's authority), so the same key: the second proxy never asks the origin.
    String answer;
    try (Socket socket = new Socket("127.0.0.1", second.port())) {
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write(("GET /shared HTTP/1.1\r\nHost: 127.0.0.1:" + first.proxy.port()
          + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
    }
    assertThat(answer).startsWith("HTTP/1.1 200").contains("X-Cache: HIT").endsWith("from the first origin");
    assertThat(first.origin.getRequestCount()).isEqualTo(1);
    assertThat(second.cache().orElseThrow().stats().hits()).isEqualTo(1);
    assertThat(verdict(first.get("/shared"))).isEqualTo("HIT");
    first.cache().purgeAll();
    assertThat(store.entryCount()).isZero();
  }

  /**
   * A store that fails (a shared tier's network) makes misses, served from the origin and not
   * blamed on it: a lookup that threw crashed the client's connection, and a put that threw was
   * answered 502 as the origin's bad response (probe e14).
   */
  @ParameterizedTest
  @ValueSource(strings = {"variants", "put"})
  void servesFromTheOriginWhenTheStoreFails(String failing) throws Exception {
    MapStore store = new MapStore() {
      @Override
      public List<CacheEntry> variants(String key) {
        if (failing.equals("variants")) {
          throw new IllegalStateException("store unreachable");
        }
        return super.variants(key);
      }

      @Override
      public void put(String key, CacheEntry entry) {
        if (failing.equals("put")) {
          throw new IllegalStateException("store unreachable");
        }
        super.put(key, entry);
      }
    };
    CacheHarness h = new CacheHarness(ferry, CacheSpec.inMemory().store(store));
    for (int i = 0; i < 2; i++) {
      h.origin.enqueue(h.response("fresh " + i).setHeader("Cache-Control", "max-age=100"));
      java.net.http.HttpResponse<String> response = h.get("/s");
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).isEqualTo("fresh " + i);
    }
    assertThat(h.proxy.stats().failures()).isEmpty();
  }
}
