package dev.ferry.proxy.engine.http1;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * When a head still arriving can go to the parser: finished, or already refused, or too long; and
 * whether a small body it declares is still arriving.
 */
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

  @Test
  void waitsForTheRestOfASmallDeclaredBody() {
    String head = "POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n";
    assertThat(smallBodyPending(head)).isTrue();
    assertThat(smallBodyPending(head + "12345")).isTrue();
    assertThat(smallBodyPending(head + "1234567890")).isFalse();
    assertThat(smallBodyPending(head + "1234567890GET /next")).as("pipelined").isFalse();
    assertThat(smallBodyPending("POST /f HTTP/1.1\r\ncontent-LENGTH:\t10 \r\n\r\n123")).isTrue();
    assertThat(smallBodyPending("POST /f HTTP/1.1\nContent-Length: 10\n\n123")).as("bare LF heads too").isTrue();
  }

  @Test
  void measuresAWholeHead() {
    assertThat(headLength("GET / HTTP/1.1\r\nHost: a\r\n\r\nbody")).isEqualTo(27);
    assertThat(headLength("\r\nGET / HTTP/1.1\nHost: a\n\nbody")).as("leading empty line, bare LFs").isEqualTo(26);
    assertThat(headLength("GET / HTTP/1.1\r\nHost: a\r\n")).isEqualTo(-1);
  }

  @Test
  void measuresTheRequestAwaitedWhole() {
    String head = "POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n";
    assertThat(pendingRequestBytes(head + "123")).as("head and declared length").isEqualTo(head.length() + 10);
    String chunkedHead = "POST /f HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    assertThat(pendingRequestBytes(chunkedHead + "5\r\nab")).as("head and room for the chunks")
        .isEqualTo(chunkedHead.length() + 2 * 100);
    byte[] large = "POST /f HTTP/1.1\r\nContent-Length: 1048576\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
    assertThat(HeadScan.pendingRequestBytes(large, 0, large.length, 1024 * 1024, 50))
        .as("lengths up to their own limit").isEqualTo(large.length + 1024 * 1024);
    assertThat(HeadScan.pendingRequestBytes(large, 0, large.length, 1024 * 1024 - 1, 50)).isEqualTo(-1);
  }

  @Test
  void tellsACONNECTFromOtherRequests() {
    assertThat(isConnect("CONNECT a:443 HTTP/1.1\r\n")).isTrue();
    assertThat(isConnect("\r\nCONNECT a:443 HTTP/1.1\r\n")).as("after an empty line").isTrue();
    assertThat(isConnect("CONNECT")).as("not yet known").isFalse();
    assertThat(isConnect("connect a:443 HTTP/1.1\r\n")).as("methods are case-sensitive").isFalse();
    assertThat(isConnect("CONNECTX a HTTP/1.1\r\n")).isFalse();
    assertThat(isConnect("POST /CONNECT HTTP/1.1\r\n")).isFalse();
  }

  private static boolean isConnect(String text) {
    byte[] bytes = ("xx" + text).getBytes(StandardCharsets.ISO_8859_1);
    return HeadScan.isConnect(bytes, 2, bytes.length);
  }

  @Test
  void passesBodiesItDoesNotWaitFor() {
    assertThat(smallBodyPending("POST /f HTTP/1.1\r\nContent-Length: 10\r\n")).as("head unfinished").isFalse();
    assertThat(smallBodyPending("GET / HTTP/1.1\r\nHost: a\r\n\r\n")).as("no body").isFalse();
    assertThat(smallBodyPending("POST /f HTTP/1.1\r\nContent-Length: 0\r\n\r\n")).isFalse();
    assertThat(smallBodyPending("POST /f HTTP/1.1\r\nContent-Length: 101\r\n\r\n")).as("over the limit").isFalse();
    assertThat(smallBodyPending("POST /f HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n")).isFalse();
    assertThat(smallBodyPending("POST /f HTTP/1.1\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n"))
        .as("the client waits for 100 Continue").isFalse();
    assertThat(smallBodyPending("POST /f HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 10\r\n\r\n"))
        .as("framing the parser refuses").isFalse();
    assertThat(smallBodyPending("POST /f HTTP/1.1\r\nContent-Length: 10\r\nContent-Length: 10\r\n\r\n")).isFalse();
    assertThat(smallBodyPending("POST /f HTTP/1.1\r\nContent-Length: 1,0\r\n\r\n")).isFalse();
    assertThat(smallBodyPending("POST /f HTTP/1.1\r\nContent-Length : 10\r\n\r\n")).isFalse();
    assertThat(smallBodyPending("POST /f HTTP/1.1\r\nX-Content-Length: 10\r\n\r\n")).isFalse();
  }

  @Test
  void waitsForTheRestOfASmallChunkedBody() {
    String head = "POST /f HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
    assertThat(smallBodyPending(head)).isTrue();
    assertThat(smallBodyPending(head + "a")).as("a size line under way").isTrue();
    assertThat(smallBodyPending(head + "a\r\n0123")).as("chunk data under way").isTrue();
    assertThat(smallBodyPending(head + "a\r\n0123456789")).as("the CRLF after the data").isTrue();
    assertThat(smallBodyPending(head + "a;ext=1\r\n0123456789\r\n0\r\n")).as("the end of the trailers").isTrue();
    assertThat(smallBodyPending(head + "a\r\n0123456789\r\n0\r\nX-T: 1\r\n")).isTrue();
    assertThat(smallBodyPending(head + "a\r\n0123456789\r\n0\r\n\r\n")).isFalse();
    assertThat(smallBodyPending(head + "A\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n")).isFalse();
    assertThat(smallBodyPending(head + "0\r\n\r\nGET /next")).as("pipelined").isFalse();
    assertThat(smallBodyPending("POST /f HTTP/1.1\r\ntransfer-encoding:  Chunked \r\n\r\n5\r\nab")).isTrue();
  }

  @Test
  void passesChunkedBodiesItDoesNotWaitFor() {
    String head = "POST /f HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
    assertThat(smallBodyPending(head + "65\r\n")).as("a chunk over the limit").isFalse();
    assertThat(smallBodyPending(head + "32\r\n" + "x".repeat(50) + "\r\n33\r\n")).as("chunks adding up past it").isFalse();
    assertThat(smallBodyPending(head + "zz\r\n")).as("not a size").isFalse();
    assertThat(smallBodyPending(head + "5\r\n01234XY")).as("no CRLF after the data").isFalse();
    assertThat(smallBodyPending(head + "5\rhello\r\n0\r\n\r\n")).as("a bare CR after the size").isFalse();
    assertThat(smallBodyPending(head + "5\rhel")).as("a bare CR, the line under way").isFalse();
    assertThat(smallBodyPending(head + "5\r\nhello\r\n0\r\r\n")).as("CR CR LF after the last size").isFalse();
    assertThat(smallBodyPending(head + "0\r\nX-T: 1\r2\r\n")).as("a bare CR in a trailer").isFalse();
    assertThat(smallBodyPending(head + "0\r\nX-T: 1\r2")).as("the same, the line under way").isFalse();
    assertThat(smallBodyPending(head + "5" + ";e".repeat(40))).as("a size line too long to wait for").isFalse();
    assertThat(smallBodyPending("POST /f HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")).isFalse();
    assertThat(smallBodyPending("POST /f HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"))
        .isFalse();
    assertThat(smallBodyPending("POST /f HTTP/1.1\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n"))
        .isFalse();
  }

  private static boolean smallBodyPending(String message) {
    return pendingRequestBytes(message) >= 0;
  }

  private static int headLength(String message) {
    byte[] bytes = message.getBytes(StandardCharsets.ISO_8859_1);
    return HeadScan.headLength(bytes, 0, bytes.length);
  }

  /** Bodies up to 100 bytes, by length or chunked, are awaited whole. */
  private static long pendingRequestBytes(String message) {
    byte[] bytes = message.getBytes(StandardCharsets.ISO_8859_1);
    return HeadScan.pendingRequestBytes(bytes, 0, bytes.length, 100, 100);
  }

  private static boolean decidable(String head) {
    byte[] bytes = head.getBytes(StandardCharsets.ISO_8859_1);
    return HeadScan.decidable(bytes, 0, bytes.length, MAX_LINE, MAX_HEAD);
  }
}
