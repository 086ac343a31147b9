package dev.ferry.proxy.engine.http1;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** When a head still arriving can go to the parser: finished, or already refused, or too long. */
class HeadScanTest {
  private static final int MAX_LINE = 64;
  private static final int MAX_HEAD = 256;

  @Test
  void waitsForTheRestOfAWellFormedHead() {
    assertThat(decidable("")).isFalse();
    assertThat(decidable("GET / HT")).isFalse();
    assertThat(decidable("GET / HTTP/1.1\r\n")).isFalse();
    assertThat(decidable("GET / HTTP/1.1\r\nHost: a\r\nX-Part: ")).isFalse();
    assertThat(decidable("GET / HTTP/1.1\r\nHost: a\r\n\r")).isFalse();
    assertThat(decidable("\r\nGET / HTTP/1.1\r\nHost: a\r\n"))
        .as("an empty line before the request line").isFalse();
  }

  @Test
  void passesAFinishedHead() {
    assertThat(decidable("GET / HTTP/1.1\r\nHost: a\r\n\r\n")).isTrue();
    assertThat(decidable("GET / HTTP/1.1\nHost: a\n\n")).as("bare LF: the parser refuses it").isTrue();
    assertThat(decidable("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /next")).isTrue();
  }

  @Test
  void passesALineTheParserRefusesBeforeTheHeadEnds() {
    assertThat(decidable("GET /\r\n")).as("no HTTP version").isTrue();
    assertThat(decidable("GET / HTTP/1.1\r\nNoColon\r\n")).isTrue();
    assertThat(decidable("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n")).isTrue();
    assertThat(decidable("GET / HTTP/1.1\r\nX: a\rb\r\n")).as("bare CR").isTrue();
    assertThat(decidable("GET / HTTP/1.1\r\nX: a\u0000b\r\n")).as("NUL").isTrue();
  }

  @Test
  void waitsForTheEndOfALineWithABadByteAsTheParserWould() {
    assertThat(decidable("GET / HTTP/1.1\r\nX: a\rb")).isFalse();
    assertThat(decidable("\u0016\u0003\u0001\u0002\u0000")).as("a TLS handshake on a plain port").isFalse();
  }

  @Test
  void passesWhatAlreadyReachesALimit() {
    assertThat(decidable("GET /" + "a".repeat(MAX_LINE))).as("request line under way").isTrue();
    assertThat(decidable("GET / HTTP/1.1\r\nX: " + "a".repeat(MAX_LINE * 2)))
        .as("a field line only counts toward the head's limit").isFalse();
    assertThat(decidable("GET / HTTP/1.1\r\nX: " + "a".repeat(MAX_HEAD))).isTrue();
  }

  @Test
  void scansOnlyTheGivenRange() {
    byte[] bytes = "xxGET /\r\nyy".getBytes(StandardCharsets.ISO_8859_1);
    assertThat(HeadScan.decidable(bytes, 2, 9, MAX_LINE, MAX_HEAD)).isTrue();
    assertThat(HeadScan.decidable(bytes, 2, 6, MAX_LINE, MAX_HEAD)).isFalse();
  }

  private static boolean decidable(String head) {
    byte[] bytes = head.getBytes(StandardCharsets.ISO_8859_1);
    return HeadScan.decidable(bytes, 0, bytes.length, MAX_LINE, MAX_HEAD);
  }
}
