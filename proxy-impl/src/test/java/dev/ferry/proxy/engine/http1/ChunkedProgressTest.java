package dev.ferry.proxy.engine.http1;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Following a chunked body as it arrives: where it ends, where it stops being followed, and the
 * fewest bytes it can still take, which must never be more than it does take (a connection reads
 * no more than that, so as not to take a pipelined request's bytes with the body).
 */
class ChunkedProgressTest {
  private static final List<String> BODIES = List.of(
      "0\r\n\r\n",
      "0\r\n\n",
      "5\r\nhello\r\n0\r\n\r\n",
      "5;name=value\r\nhello\r\n0\r\n\r\n",
      "5 ;x\r\nhello\r\n0\r\n\r\n",
      "A\r\n0123456789\r\n1\r\nx\r\n0\r\nX-Trailer: 1\r\nY: 2\r\n\r\n",
      "000a\r\n0123456789\r\n00\r\n\r\n",
      "1\r\nx\r\n".repeat(50) + "0\r\n\r\n",
      "3e8\r\n" + "y".repeat(1000) + "\r\n0\r\n\r\n");

  @Test
  void endsWhereTheBodyEndsAndNeverClaimsMoreThanIsLeft() {
    for (String body : BODIES) {
      byte[] bytes = body.getBytes(StandardCharsets.ISO_8859_1);
      ChunkedProgress progress = new ChunkedProgress(1 << 20, 1024);
      for (int i = 0; i < bytes.length; i++) {
        assertThat(progress.done()).as("%s ended early, at %d", body, i).isFalse();
        assertThat(progress.minRemaining()).as("%s at %d", body, i).isBetween(1L, (long) bytes.length - i);
        assertThat(progress.feed(bytes, i, i + 1)).isEqualTo(1);
      }
      assertThat(progress.done()).as(body).isTrue();
      assertThat(progress.minRemaining()).isZero();
    }
  }

  @Test
  void takesTheBodysBytesAndNotWhatFollowsIt() {
    byte[] bytes = "5\r\nhello\r\n0\r\n\r\nGET /next HTTP/1.1\r\n".getBytes(StandardCharsets.ISO_8859_1);
    ChunkedProgress progress = new ChunkedProgress(1 << 20, 1024);
    assertThat(progress.feed(bytes, 0, 4)).isEqualTo(4);
    assertThat(progress.feed(bytes, 4, bytes.length)).isEqualTo(15 - 4);
    assertThat(progress.done()).isTrue();
    assertThat(progress.dataBytes()).isEqualTo(5);
  }

  @Test
  void stopsAtWhatTheDecoderRefusesOrABodyPastTheLimit() {
    for (String broken : List.of("g\r\n", "\r\n", "5\nhello", "5\r\nhelloX", "5\r\nhello\rX",
        "1234567890abcdef0\r\n", "5;\u0001\r\n")) {
      ChunkedProgress progress = new ChunkedProgress(1 << 20, 1024);
      byte[] bytes = broken.getBytes(StandardCharsets.ISO_8859_1);
      progress.feed(bytes, 0, bytes.length);
      assertThat(progress.stopped()).as(broken).isTrue();
      assertThat(progress.minRemaining()).isZero();
    }
    ChunkedProgress limited = new ChunkedProgress(9, 1024);
    byte[] bytes = "5\r\nhello\r\n5\r\n".getBytes(StandardCharsets.ISO_8859_1);
    limited.feed(bytes, 0, bytes.length);
    assertThat(limited.stopped()).as("10 data bytes past a limit of 9").isTrue();
    ChunkedProgress trailers = new ChunkedProgress(100, 8);
    byte[] longTrailer = "0\r\nX-Long: 123456\r\n".getBytes(StandardCharsets.ISO_8859_1);
    trailers.feed(longTrailer, 0, longTrailer.length);
    assertThat(trailers.stopped()).as("trailers past their limit").isTrue();
  }
}
