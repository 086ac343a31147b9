package dev.ferry.proxy.engine.http1;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.engine.io.ConnectionInput;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** An event loop's table of the strings its heads carried lately. */
class RecentValuesTest {
  private final RecentValues recent = new RecentValues();

  @Test
  void givesTheSameStringForTheSameBytesAgain() {
    String first = recent.of(bytes("xx nginx/1.22.1"), 3, 15);
    assertThat(first).isEqualTo("nginx/1.22.1");
    assertThat(recent.of(bytes("nginx/1.22.1"), 0, 12)).isSameAs(first);
  }

  @Test
  void makesANewStringForOtherBytesOfTheSameLength() {
    String one = recent.of(bytes("abc"), 0, 3);
    assertThat(recent.of(bytes("abd"), 0, 3)).isEqualTo("abd");
    assertThat(recent.of(bytes("abc"), 0, 3)).isEqualTo(one);
  }

  @Test
  void readsBytesAboveAsciiAsLatin1() {
    byte[] cafe = "caf\u00e9".getBytes(StandardCharsets.ISO_8859_1);
    String first = recent.of(cafe, 0, 4);
    assertThat(first).isEqualTo("caf\u00e9");
    assertThat(recent.of(cafe, 0, 4)).isSameAs(first);
    // -23 as a signed byte: compared as 0xe9, not as a negative char.
    assertThat(recent.of("cafi".getBytes(StandardCharsets.ISO_8859_1), 0, 4)).isEqualTo("cafi");
  }

  @Test
  void keepsNoLongValue() {
    byte[] longValue = bytes("v".repeat(RecentValues.MAX_LENGTH + 1));
    String first = recent.of(longValue, 0, longValue.length);
    assertThat(recent.of(longValue, 0, longValue.length)).isEqualTo(first).isNotSameAs(first);
  }

  @Test
  void keepsOnlyTheValuesOfSharedFieldsThatSayNothingSecret() {
    assertThat(RecentValues.keeps("Server")).isTrue();
    assertThat(RecentValues.keeps("content-type")).isTrue();
    assertThat(RecentValues.keeps("Authorization")).isFalse();
    assertThat(RecentValues.keeps("proxy-authorization")).isFalse();
    assertThat(RecentValues.keeps("Cookie")).isFalse();
    assertThat(RecentValues.keeps("set-cookie")).isFalse();
    assertThat(RecentValues.keeps("X-Api-Key")).isFalse();
  }

  /**
   * A loop's parser takes the strings of a head like the last from the table, but not a
   * credential, an application's own field or a target with a query.
   */
  @Test
  void parsesARepeatedHeadIntoTheSameStringsButItsSecrets() throws Exception {
    String head = "GET /a HTTP/1.1\r\nHost: h\r\nUser-Agent: curl/8\r\nAuthorization: Basic eDp5\r\n"
        + "X-Api-Key: k1\r\n\r\nGET /a?token=t HTTP/1.1\r\nHost: h\r\n\r\n";
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        Socket client = new Socket(server.getInetAddress(), server.getLocalPort());
        Socket accepted = server.accept()) {
      client.getOutputStream().write((head + head).getBytes(StandardCharsets.US_ASCII));
      ConnectionInput in = new ConnectionInput(accepted, 16 * 1024);
      byte[] scratch = new byte[8 * 1024];
      RequestHead first = new HeadParser(in, scratch, recent, 8192, 8192, 100).readRequest();
      RequestHead firstQuery = new HeadParser(in, scratch, recent, 8192, 8192, 100).readRequest();
      RequestHead second = new HeadParser(in, scratch, recent, 8192, 8192, 100).readRequest();
      RequestHead secondQuery = new HeadParser(in, scratch, recent, 8192, 8192, 100).readRequest();
      assertThat(second.method()).isSameAs(first.method());
      assertThat(second.target()).isEqualTo("/a").isSameAs(first.target());
      assertThat(second.headers().first("User-Agent")).get()
          .isSameAs(first.headers().first("User-Agent").orElseThrow());
      assertThat(second.headers().first("Authorization")).contains("Basic eDp5").get()
          .isNotSameAs(first.headers().first("Authorization").orElseThrow());
      assertThat(second.headers().first("X-Api-Key")).contains("k1").get()
          .isNotSameAs(first.headers().first("X-Api-Key").orElseThrow());
      assertThat(secondQuery.target()).isEqualTo("/a?token=t").isNotSameAs(firstQuery.target());
    }
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.US_ASCII);
  }
}
