package dev.ferry.proxy.engine.http1;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.engine.io.ConnectionInput;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
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
      "5\r\nhello\r\n0\r\n\r\n",
      "5;name=value\r\nhello\r\n0\r\n\r\n",
      "5 ;x\r\nhello\r\n0\r\n\r\n",
      "5 \t\r\nhello\r\n0 \r\n\r\n",
      "A\r\n0123456789\r\n1\r\nx\r\n0\r\nX-Trailer: 1\r\nY: 2\r\n\r\n",
      "000a\r\n0123456789\r\n00\r\n\r\n",
      // RFC 9112 §7.1: 1*HEXDIG; leading zeros are no overflow.
      "0000000000000002\r\nhi\r\n00000000000000000000\r\n\r\n",
      "0".repeat(4000) + "2\r\nhi\r\n0\r\n\r\n",
      "1\r\nx\r\n".repeat(50) + "0\r\n\r\n",
      "3e8\r\n" + "y".repeat(1000) + "\r\n0\r\n\r\n");

  @Test
  void endsWhereTheBodyEndsAndNeverClaimsMoreThanIsLeft() {
    for (String body : BODIES) {
      byte[] bytes = body.getBytes(StandardCharsets.ISO_8859_1);
      ChunkedProgress progress = new ChunkedProgress(1 << 20, 1024, 100);
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
    ChunkedProgress progress = new ChunkedProgress(1 << 20, 1024, 100);
    assertThat(progress.feed(bytes, 0, 4)).isEqualTo(4);
    assertThat(progress.feed(bytes, 4, bytes.length)).isEqualTo(15 - 4);
    assertThat(progress.done()).isTrue();
    assertThat(progress.dataBytes()).isEqualTo(5);
  }

  /**
   * Framing the decoder refuses, each case complete (nothing more would change the verdict).
   * Before, the trailer cases were followed to the end as well formed, and the body went
   * upstream before the decoder refused it there.
   */
  private static final List<String> BROKEN = List.of("g\r\n", "\r\n", "5\nhello", "5\r\nhelloX",
      "5\r\nhello\rX", "1234567890abcdef0\r\n", "5;\u0001\r\n", "5 \n", "-5\r\n", "0x5\r\n",
      "5;" + "e".repeat(4095) + "\r\n", "0".repeat(4096) + "5\r\n", "0001000000000000000\r\n",
      "0\r\n\n", "0\r\nX: a\n\r\n", "0\r\nX: a\r\n b\r\n\r\n", "0\r\nX Y: 1\r\n\r\n",
      "0\r\n: 1\r\n\r\n", "0\r\nX\r\n\r\n", "0\r\nX: a\u0000b\r\n\r\n", "0\r\nX: a\rb\r\n\r\n",
      "0\r\n\rX\r\n\r\n", "2 x\r\n", "2\tx=1\r\n", "2" + " ".repeat(4096) + "\r\n");

  @Test
  void refusesWhatTheDecoderRefusesAndNothingElse() throws Exception {
    for (String broken : BROKEN) {
      ChunkedProgress progress = new ChunkedProgress(Long.MAX_VALUE, 1024, 100);
      byte[] bytes = broken.getBytes(StandardCharsets.ISO_8859_1);
      String shown = broken.length() > 40 ? broken.substring(0, 40) + "..." : broken;
      progress.feed(bytes, 0, bytes.length);
      assertThat(progress.stopped()).as(shown).isTrue();
      assertThat(progress.minRemaining()).isZero();
      assertThat(progress.refusal()).as(shown).isNotNull();
      assertThat(decoderVerdict(broken)).as("the decoder on " + shown)
          .isEqualTo(progress.refusal().failure());
    }
    for (String body : BODIES) {
      assertThat(decoderVerdict(body)).as(body).isNull();
    }
    assertThat(decoderVerdict("5;" + "e".repeat(4094) + "\r\nhello\r\n0\r\n\r\n"))
        .as("the longest extension the decoder takes").isNull();
    ChunkedProgress longest = new ChunkedProgress(1 << 20, 1024, 100);
    byte[] bytes = ("5;" + "e".repeat(4094) + "\r\nhello\r\n0\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
    longest.feed(bytes, 0, bytes.length);
    assertThat(longest.done()).isTrue();
  }

  @Test
  void stopsWithoutRefusingABodyPastTheLimitAndRefusesTrailersPastTheirs() throws Exception {
    ChunkedProgress limited = new ChunkedProgress(9, 1024, 100);
    byte[] bytes = "5\r\nhello\r\n5\r\n".getBytes(StandardCharsets.ISO_8859_1);
    limited.feed(bytes, 0, bytes.length);
    assertThat(limited.stopped()).as("10 data bytes past a limit of 9").isTrue();
    assertThat(limited.refusal()).as("it streams; the decoder judges").isNull();

    String longTrailer = "0\r\nX-Long: 123456\r\n\r\n";
    ChunkedProgress trailers = new ChunkedProgress(100, 8, 100);
    trailers.feed(longTrailer.getBytes(StandardCharsets.ISO_8859_1), 0, longTrailer.length());
    assertThat(trailers.refusal().failure()).isEqualTo(ProxyFailure.HEADERS_TOO_LARGE);
    assertThat(decoderVerdict(longTrailer, 8, 100)).isEqualTo(ProxyFailure.HEADERS_TOO_LARGE);

    String manyTrailers = "0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
    ChunkedProgress counted = new ChunkedProgress(100, 1024, 2);
    counted.feed(manyTrailers.getBytes(StandardCharsets.ISO_8859_1), 0, manyTrailers.length());
    assertThat(counted.refusal().failure()).isEqualTo(ProxyFailure.HEADERS_TOO_LARGE);
    assertThat(decoderVerdict(manyTrailers, 1024, 2)).isEqualTo(ProxyFailure.HEADERS_TOO_LARGE);
    assertThat(decoderVerdict(manyTrailers, 1024, 3)).isNull();
  }

  /**
   * Decoding, read by read of any size, leaves each body's data alone at the front of the reads,
   * as the blocking decoder reads it, and stops at the body's end: the bytes after it are not the
   * body's, and none of them is moved.
   */
  @Test
  void decodesToTheDataTheDecoderReadsWhateverTheReadsAre() throws Exception {
    for (String body : BODIES) {
      byte[] expected = decoded(body);
      for (int read : new int[] {1, 2, 5, 13, body.length()}) {
        byte[] bytes = (body + "GET / HTTP/1.1\r\n").getBytes(StandardCharsets.ISO_8859_1);
        ChunkedProgress progress = new ChunkedProgress(Long.MAX_VALUE, 1024, 100);
        java.io.ByteArrayOutputStream data = new java.io.ByteArrayOutputStream();
        int at = 0;
        while (!progress.done()) {
          int to = Math.min(bytes.length, at + read);
          int used = progress.decode(bytes, at, to);
          data.write(bytes, at, progress.decoded());
          at += used;
        }
        assertThat(data.toByteArray()).as("%s read %d at a time", body, read).isEqualTo(expected);
        assertThat(at).as(body).isEqualTo(body.length());
        assertThat(new String(bytes, at, bytes.length - at, StandardCharsets.ISO_8859_1)).isEqualTo("GET / HTTP/1.1\r\n");
      }
    }
  }

  /** The data {@link ChunkedInputStream} reads of {@code body}. */
  private static byte[] decoded(String body) throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        Socket client = new Socket(server.getInetAddress(), server.getLocalPort());
        Socket accepted = server.accept()) {
      client.getOutputStream().write(body.getBytes(StandardCharsets.ISO_8859_1));
      client.shutdownOutput();
      return new ChunkedInputStream(new ConnectionInput(accepted, 16 * 1024), false, 1024, 100).readAllBytes();
    }
  }

  private static ProxyFailure decoderVerdict(String body) throws Exception {
    return decoderVerdict(body, 1024, 100);
  }

  /** What {@link ChunkedInputStream} makes of {@code body}: null if it reads it to its end. */
  private static ProxyFailure decoderVerdict(String body, int maxTrailerBytes, int maxTrailerCount)
      throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        Socket client = new Socket(server.getInetAddress(), server.getLocalPort());
        Socket accepted = server.accept()) {
      client.getOutputStream().write(body.getBytes(StandardCharsets.ISO_8859_1));
      client.shutdownOutput();
      ChunkedInputStream chunked = new ChunkedInputStream(new ConnectionInput(accepted, 16 * 1024),
          false, maxTrailerBytes, maxTrailerCount);
      chunked.readAllBytes();
      return chunked.isComplete() ? null : ProxyFailure.CLIENT_CLOSED;
    } catch (HttpFailureException e) {
      return e.failure();
    } catch (java.io.EOFException e) {
      return ProxyFailure.CLIENT_CLOSED;
    }
  }
}
