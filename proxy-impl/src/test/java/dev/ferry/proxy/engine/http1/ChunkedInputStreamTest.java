package dev.ferry.proxy.engine.http1;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.proxy.engine.io.ConnectionInput;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Decoding a chunked body from a connection's input. */
class ChunkedInputStreamTest {
  /** What follows a chunk size is whitespace, an extension or the line's end; "2 x" was read as 2 (probe s8). */
  @ParameterizedTest
  @ValueSource(strings = {"2 x\r\nab\r\n0\r\n\r\n", "2\tx=1\r\nab\r\n0\r\n\r\n", "2 \"q\"\r\nab\r\n0\r\n\r\n"})
  void refusesJunkAfterAChunkSize(String body) throws Exception {
    assertThatThrownBy(() -> decode(body)).isInstanceOf(HttpFailureException.class)
        .hasMessageContaining("chunk");
  }

  @ParameterizedTest
  @ValueSource(strings = {"2\r\nab\r\n0\r\n\r\n", "2 ;ext=1\r\nab\r\n0\r\n\r\n",
      "2\t; ext\r\nab\r\n0\r\n\r\n", "2  \r\nab\r\n0\r\n\r\n"})
  void acceptsWhitespaceBeforeAnExtensionOrTheLineEnd(String body) throws Exception {
    assertThat(decode(body)).isEqualTo("ab");
  }

  private static String decode(String body) throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        Socket client = new Socket(server.getInetAddress(), server.getLocalPort());
        Socket accepted = server.accept()) {
      client.getOutputStream().write(body.getBytes(StandardCharsets.US_ASCII));
      ChunkedInputStream chunked = new ChunkedInputStream(new ConnectionInput(accepted, 16 * 1024), false, 1024, 10);
      return new String(chunked.readAllBytes(), StandardCharsets.US_ASCII);
    }
  }

  /**
   * At a chunk boundary, the next chunk's buffered bytes count as available once its size line is
   * buffered: the forwarder flushes upstream whenever nothing is available, and before, a body of
   * many small chunks that had all arrived went upstream a chunk per write.
   */
  @Test
  void countsTheNextBufferedChunkAsAvailableAtABoundary() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        Socket client = new Socket(server.getInetAddress(), server.getLocalPort());
        Socket accepted = server.accept()) {
      client.getOutputStream().write("3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      ConnectionInput in = new ConnectionInput(accepted, 16 * 1024);
      ChunkedInputStream chunked = new ChunkedInputStream(in, false, 1024, 10);
      byte[] target = new byte[16];
      int first = chunked.read(target, 0, 16);
      while (in.available() < "\r\n2;ext=1\r\nde\r\n0\r\n\r\n".length() - 2) {
        // the rest arrived with the first read, or is still on its way
        assertThat(in.makeRoom(16 * 1024, null) && in.awaitMore(5000)).isTrue();
      }
      assertThat(new String(target, 0, first, StandardCharsets.US_ASCII)).isEqualTo("abc");
      assertThat(chunked.available()).as("the next chunk, size line and all, is buffered").isEqualTo(2);
      assertThat(chunked.read(target, 0, 16)).isEqualTo(2);
      assertThat(chunked.available()).as("only the last chunk is left").isZero();
      assertThat(chunked.read(target, 0, 16)).isEqualTo(-1);
      assertThat(chunked.isComplete()).isTrue();
    }
  }
}
