package dev.ferry.proxy.engine.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A connection's input with a spool: reads take the bytes in memory, then the spooled ones, then
 * the socket's; bytes the spool took past its body come back to memory for the next head.
 */
class ConnectionInputSpoolTest {
  @TempDir Path directory;

  @Test
  void readsMemoryThenSpoolThenSocketAndBringsTheRestBackForTheNextHead() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        Socket client = new Socket(server.getInetAddress(), server.getLocalPort());
        Socket accepted = server.accept()) {
      // A small buffer: the bytes past the body (9) must make it grow.
      ConnectionInput in = new ConnectionInput(accepted, 8);
      ByteBudget budget = new ByteBudget(1 << 20);
      client.getOutputStream().write(bytes("HEAD|"));
      assertThat(in.awaitData(5000, false)).isTrue();
      assertThat(in.available()).isEqualTo(5);

      in.spoolTo(BodySpool.create(directory, budget));
      client.getOutputStream().write(bytes("body-bytes|GET /next"));
      while (in.buffered() < 5 + 20) {
        assertThat(in.makeSpoolRoom(1000)).isTrue();
        assertThat(in.awaitMore(5000)).isTrue();
      }
      assertThat(in.peekBuffered()).as("the spooled bytes are not in memory").isEqualTo(bytes("HEAD|"));
      in.endSpooling();
      client.getOutputStream().write(bytes(" HTTP/1.1"));

      assertThat(in.readNBytes(5 + 11)).isEqualTo(bytes("HEAD|body-bytes|"));
      in.unspoolRest();
      assertThat(in.spooling()).isFalse();
      assertThat(budget.taken()).as("the spool is gone").isZero();
      assertThat(in.takeBuffered()).as("before the socket's bytes").isEqualTo(bytes("GET /next"));
      assertThat(in.readNBytes(9)).isEqualTo(bytes(" HTTP/1.1"));
    }
  }

  /**
   * A spool file that cannot be written (a full disk; here its channel closed beneath it) is the
   * proxy's failure, told apart from the client's: it ended the connection as if the client had
   * left, and the upload was logged CLIENT_CLOSED with no warning (probe r13).
   */
  @Test
  void tellsASpoolWriteFailureFromTheClientsFailure() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        Socket client = new Socket(server.getInetAddress(), server.getLocalPort());
        Socket accepted = server.accept()) {
      ConnectionInput in = new ConnectionInput(accepted, 64);
      BodySpool spool = BodySpool.create(directory, new ByteBudget(1 << 20));
      in.spoolTo(spool);
      assertThat(in.makeSpoolRoom(1000)).isTrue();
      spool.close();
      client.getOutputStream().write(bytes("body-bytes"));
      assertThatThrownBy(() -> in.awaitMore(5000)).isInstanceOf(SpoolWriteException.class)
          .hasMessageStartingWith("writing the request body to its spool file failed");
      in.release();
    }
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.ISO_8859_1);
  }
}
