package dev.ferry.proxy.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Requests the proxy rejects before it can parse them still show up in the recording. */
class MalformedTrafficRecordingTest {

  @Test
  void recordsRequestsRejectedWhileParsingTheHead() throws Exception {
    try (RecordingProxy proxy = RecordingProxy.forward().start();
        Socket socket = new Socket("127.0.0.1", proxy.port())) {
      socket.getOutputStream().write("GET http://x/ HTTP/1.1\r\nHost : x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      InputStream in = socket.getInputStream();
      assertThat(new String(in.readNBytes(12), StandardCharsets.ISO_8859_1)).isEqualTo("HTTP/1.1 400");
      List<RecordedExchange> exchanges = proxy.recording().awaitExchanges(1, Duration.ofSeconds(5));
      assertThat(exchanges.get(0).response().status()).isEqualTo(400);
      assertThat(exchanges.get(0).failure()).hasValue("MALFORMED_REQUEST");
    }
  }

  /**
   * An origin-form request sent straight to a forward proxy (a client wired to its address rather
   * than configured to use it) is recorded with the target it sent, at the proxy's address: it was
   * recorded as {@code GET http://localhost/}, so a path matcher could not find it (probe t27).
   */
  @Test
  void recordsTheTargetOfAnOriginFormRequestAForwardProxyRefused() throws Exception {
    try (RecordingProxy proxy = RecordingProxy.forward().start();
        Socket socket = new Socket("127.0.0.1", proxy.port())) {
      socket.getOutputStream().write(("GET /orders?id=7 HTTP/1.1\r\nHost: 127.0.0.1:" + proxy.port() + "\r\n\r\n")
          .getBytes(StandardCharsets.ISO_8859_1));
      assertThat(new String(socket.getInputStream().readNBytes(12), StandardCharsets.ISO_8859_1))
          .isEqualTo("HTTP/1.1 400");
      RecordedExchange refused = proxy.recording().awaitExchanges(1, Duration.ofSeconds(5)).get(0);

      assertThat(refused.request().url()).isEqualTo("http://127.0.0.1:" + proxy.port() + "/orders?id=7");
      assertThat(refused.failure()).hasValue("MALFORMED_REQUEST");
      FerryAssertions.assertThat(proxy.recording()).hasExchange(e -> e.path("/orders"));
    }
  }

  /**
   * The body of a 400 answered before a request existed never passes the recorder: only its size
   * is known. An assertion on it used to tell the user to raise maxBodyBytes, a limit nothing
   * had reached.
   */
  @Test
  void saysNoLimitCutABodyTheRecorderNeverSaw() throws Exception {
    try (RecordingProxy proxy = RecordingProxy.forward().start();
        Socket socket = new Socket("127.0.0.1", proxy.port())) {
      socket.getOutputStream().write("GET http://x/ HTTP/1.1\r\nHost : x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      assertThat(new String(socket.getInputStream().readNBytes(12), StandardCharsets.ISO_8859_1))
          .isEqualTo("HTTP/1.1 400");
      RecordedExchange rejected = proxy.recording().awaitExchanges(1, Duration.ofSeconds(5)).get(0);

      assertThat(rejected.response().body().truncated()).isTrue();
      assertThatThrownBy(() -> FerryAssertions.assertThat(rejected).responseBodyContains("Host"))
          .hasMessageContaining("only its first 0 of " + rejected.response().body().size() + " bytes")
          .hasMessageContaining("no recording limit was reached")
          .hasMessageNotContaining("maxBodyBytes");
    }
  }
}
