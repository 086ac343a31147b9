package dev.ferry.proxy.engine.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.CacheEntry;
import dev.ferry.proxy.CacheSpec;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.ServerTls;
import dev.ferry.proxy.Upstream;
import dev.ferry.proxy.engine.Await;
import dev.ferry.proxy.engine.ProxyTestExtension;
import dev.ferry.proxy.engine.TestCertificates;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okio.Buffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Large stored bodies live off the Java heap and are served from there byte for byte. */
class OffHeapBodyTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();
  private final HttpClient client = HttpClient.newHttpClient();

  @Test
  void keepsLargeBodiesOffTheHeapAndServesThemByteExact() throws Exception {
    CacheStoreSpiTest.MapStore store = new CacheStoreSpiTest.MapStore();
    CacheHarness cache = new CacheHarness(ferry, CacheSpec.inMemory().store(store));
    byte[] large = new byte[100_000];
    new Random(7).nextBytes(large);
    cache.origin.enqueue(cache.response("").setHeader("Cache-Control", "max-age=100")
        .setBody(new Buffer().write(large)));
    cache.origin.enqueue(cache.response("small").setHeader("Cache-Control", "max-age=100"));

    assertThat(fetch(cache, "/large", "MISS")).isEqualTo(large);
    assertThat(fetch(cache, "/large", "HIT")).isEqualTo(large);
    assertThat(cache.get("/small").body()).isEqualTo("small");

    CacheEntry stored = store.variants(cache.uri("/large").toString()).get(0);
    assertThat(stored.body().isDirect()).isTrue();
    assertThat(stored.bodyLength()).isEqualTo(large.length);
    assertThat(store.variants(cache.uri("/small").toString()).get(0).body().isDirect()).isFalse();

    HttpResponse<byte[]> range = client.send(HttpRequest.newBuilder(cache.uri("/large"))
        .header("Range", "bytes=70000-70099").build(), HttpResponse.BodyHandlers.ofByteArray());
    assertThat(range.statusCode()).isEqualTo(206);
    assertThat(range.body()).isEqualTo(Arrays.copyOfRange(large, 70_000, 70_100));
    assertThat(cache.request("HEAD", "/large").headers().firstValue("Content-Length")).hasValue("100000");
    assertThat(cache.origin.getRequestCount()).isEqualTo(2);
  }

  /** Over TLS the hit cannot be one gathering write: it streams from the off-heap bytes instead. */
  @Test
  void servesAnOffHeapBodyOverTls() throws Exception {
    TestCertificates certificates = TestCertificates.issued("localhost", null, 2);
    MockWebServer origin = ferry.mockOrigin();
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .tls(ServerTls.keyStore(certificates.keyStore(), TestCertificates.password()))
        .cache(CacheSpec.inMemory()));
    byte[] large = new byte[70_000];
    new Random(11).nextBytes(large);
    origin.enqueue(new MockResponse().setHeader("Cache-Control", "max-age=100").setBody(new Buffer().write(large)));
    HttpClient tls = HttpClient.newBuilder().sslContext(certificates.trustingContext()).build();
    URI uri = URI.create("https://localhost:" + proxy.port() + "/large");
    for (String verdict : List.of("MISS", "HIT", "HIT")) {
      HttpResponse<byte[]> response = tls.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofByteArray());
      assertThat(response.headers().firstValue("X-Cache")).hasValue(verdict);
      assertThat(response.body()).isEqualTo(large);
    }
  }

  @Test
  void keepsABodyOnTheHeapPastTheCachesOffHeapBound() {
    StoredBodies bodies = new StoredBodies(40 * 1024);
    ByteBuffer first = bodies.keep(ByteBuffer.wrap(filled(32 * 1024, 1)));
    ByteBuffer second = bodies.keep(ByteBuffer.wrap(filled(32 * 1024, 2)));

    assertThat(first.isDirect()).isTrue();
    assertThat(second.isDirect()).isFalse();
    assertThat(first).isEqualTo(ByteBuffer.wrap(filled(32 * 1024, 1)));
    assertThat(second).isEqualTo(ByteBuffer.wrap(filled(32 * 1024, 2)));
    assertThat(bodies.offHeapBytes()).isEqualTo(32 * 1024);
  }

  @Test
  void countsAnOffHeapBodyUntilTheCollectorFindsItUnreachable() {
    StoredBodies bodies = new StoredBodies(40 * 1024);
    assertThat(bodies.keep(ByteBuffer.wrap(filled(32 * 1024, 1))).isDirect()).isTrue();
    assertThat(bodies.offHeapBytes()).isEqualTo(32 * 1024);

    Await.until(() -> {
      System.gc();
      return bodies.offHeapBytes() == 0;
    }, "the dropped body's off-heap bytes are given back once it is collected");
    assertThat(bodies.keep(ByteBuffer.wrap(filled(32 * 1024, 3))).isDirect()).isTrue();
  }

  @Test
  void keepsASmallBodyAsItsOwnArrayAndTrimsAnOversizedOne() {
    StoredBodies bodies = new StoredBodies(1 << 20);
    byte[] exact = filled(1000, 4);
    ByteBuffer kept = bodies.keep(ByteBuffer.wrap(exact));
    assertThat(kept.array()).isSameAs(exact);

    ByteBuffer trimmed = bodies.keep(ByteBuffer.wrap(filled(4096, 5), 0, 1000));
    assertThat(trimmed.isDirect()).isFalse();
    assertThat(trimmed.array()).hasSize(1000);
    assertThat(bodies.offHeapBytes()).isZero();
  }

  private byte[] fetch(CacheHarness cache, String path, String expectedVerdict) throws Exception {
    HttpResponse<byte[]> response = client.send(HttpRequest.newBuilder(cache.uri(path)).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    assertThat(response.headers().firstValue("X-Cache")).hasValue(expectedVerdict);
    return response.body();
  }

  private static byte[] filled(int length, int value) {
    byte[] bytes = new byte[length];
    Arrays.fill(bytes, (byte) value);
    return bytes;
  }
}
