package dev.ferry.proxy.engine.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.CacheSpec;
import java.io.IOException;
import java.net.http.HttpResponse;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.SocketPolicy;
import org.junit.jupiter.api.Test;

/** What reaches the store: complete bodies within the limits, and never more than the bound. */
class CacheStorageTest {

  @Test
  void neverStoresTruncatedBody() throws Exception {
    try (CacheHarness h = new CacheHarness()) {
      h.origin.enqueue(h.response("x".repeat(100_000)).setHeader("Cache-Control", "max-age=100")
          .setSocketPolicy(SocketPolicy.DISCONNECT_DURING_RESPONSE_BODY));
      h.origin.enqueue(h.response("complete").setHeader("Cache-Control", "max-age=100"));
      try {
        h.get("/t");
      } catch (IOException expected) {
        // the client sees the cut; what matters is what the cache kept
      }
      assertThat(h.get("/t").body()).isEqualTo("complete");
    }
  }

  @Test
  void streamsBodiesOverTheEntryLimitUncached() throws Exception {
    try (CacheHarness h = new CacheHarness(CacheSpec.inMemory().maxEntryBytes(1000))) {
      h.origin.enqueue(h.response("b".repeat(2000)).setHeader("Cache-Control", "max-age=100"));
      h.origin.enqueue(h.response("small").setHeader("Cache-Control", "max-age=100"));
      assertThat(h.get("/big").body()).hasSize(2000);
      assertThat(h.get("/big").body()).isEqualTo("small");
      assertThat(h.cache().stats().entries()).isEqualTo(1);
    }
  }

  @Test
  void storesChunkedBodyOnceComplete() throws Exception {
    try (CacheHarness h = new CacheHarness()) {
      h.origin.enqueue(new MockResponse().setHeader("Cache-Control", "max-age=100").setChunkedBody("chunked body", 3));
      h.get("/chunked");
      HttpResponse<String> hit = h.get("/chunked");
      assertThat(hit.headers().firstValue("X-Cache")).hasValue("HIT");
      assertThat(hit.body()).isEqualTo("chunked body");
    }
  }

  @Test
  void holdsTheByteBoundUnderAFloodOfUrls() throws Exception {
    try (CacheHarness h = new CacheHarness(CacheSpec.inMemory().maxSizeMb(1).maxEntryBytes(20_000))) {
      h.origin.setDispatcher(new okhttp3.mockwebserver.Dispatcher() {
        @Override
        public MockResponse dispatch(okhttp3.mockwebserver.RecordedRequest request) {
          return h.response(request.getPath() + "z".repeat(10_000)).setHeader("Cache-Control", "max-age=100");
        }
      });
      for (int i = 0; i < 300; i++) {
        assertThat(h.get("/flood/" + i).body()).startsWith("/flood/" + i + "z");
      }
      assertThat(h.cache().stats().bytes()).isLessThanOrEqualTo(1 << 20);
      assertThat(h.cache().stats().evictions()).isPositive();
      for (int i = 0; i < 300; i += 7) {
        assertThat(h.get("/flood/" + i).body()).startsWith("/flood/" + i + "z");
      }
    }
  }

  @Test
  void keepsEntryIntactWhenClientLeavesMidBody() throws Exception {
    try (CacheHarness h = new CacheHarness(CacheSpec.inMemory().maxEntryBytes(4 << 20))) {
      String body = "0123456789".repeat(200_000);
      h.origin.enqueue(h.response(body).setHeader("Cache-Control", "max-age=100").throttleBody(64 * 1024, 5,
          java.util.concurrent.TimeUnit.MILLISECONDS));
      h.origin.enqueue(h.response(body).setHeader("Cache-Control", "max-age=100"));
      try (java.net.Socket socket = new java.net.Socket("127.0.0.1", h.proxy.port())) {
        socket.getOutputStream().write("GET /partial HTTP/1.1\r\nHost: a\r\n\r\n".getBytes());
        socket.getInputStream().readNBytes(100_000);
      }
      HttpResponse<String> next = h.get("/partial");
      assertThat(next.body()).isEqualTo(body);
      HttpResponse<String> again = h.get("/partial");
      assertThat(again.body()).isEqualTo(body);
      assertThat(again.headers().firstValue("X-Cache")).hasValue("HIT");
    }
  }
}
