package dev.ferry.proxy.engine.filter;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.Filter;
import dev.ferry.proxy.Filters;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.Upstream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * A filter that transforms a 768 MiB response body as it streams, in a JVM with a 512 MiB heap:
 * it only passes if neither the filter nor the engine buffers the body.
 */
class StreamingTransformTest {
  private static final long SIZE = 768L << 20;

  @Test
  void transformsLargeBodyInBoundedMemory() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
      Thread origin = new Thread(() -> serveLowercase(server));
      origin.setDaemon(true);
      origin.start();
      Filter upperCase = (exchange, chain) -> {
        Response response = chain.proceed(exchange.request());
        return response.withBody(Body.of(new UpperCase(response.body().stream()), response.body().contentLength()));
      };
      try (ProxyServer proxy = ProxyServer.builder()
          .upstream(Upstream.of("http://127.0.0.1:" + server.getLocalPort()))
          .filter(Filters.setResponseHeader("X-Transformed", "yes")).filter(upperCase).build().start();
          Socket client = new Socket("127.0.0.1", proxy.port())) {
        client.getOutputStream().write("GET / HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        InputStream in = client.getInputStream();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
          head.append((char) in.read());
        }
        assertThat(head).contains("X-Transformed: yes").contains("Content-Length: " + SIZE);
        byte[] buffer = new byte[1 << 16];
        long total = 0;
        boolean allUpper = true;
        int n;
        while (total < SIZE && (n = in.read(buffer)) > 0) {
          for (int i = 0; i < n; i++) {
            allUpper &= buffer[i] == 'A';
          }
          total += n;
        }
        assertThat(total).isEqualTo(SIZE);
        assertThat(allUpper).isTrue();
      }
    }
  }

  private static void serveLowercase(ServerSocket server) {
    try (Socket socket = server.accept()) {
      InputStream in = socket.getInputStream();
      int matched = 0;
      while (matched < 4) {
        int b = in.read();
        matched = b == '\r' || b == '\n' ? matched + 1 : 0;
      }
      OutputStream out = socket.getOutputStream();
      out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + SIZE + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
      byte[] chunk = new byte[1 << 16];
      java.util.Arrays.fill(chunk, (byte) 'a');
      for (long sent = 0; sent < SIZE; sent += chunk.length) {
        out.write(chunk);
      }
      out.flush();
    } catch (IOException e) {
      // the test reports what arrived
    }
  }

  /** Upper-cases ASCII letters as they stream by. */
  private static final class UpperCase extends FilterInputStream {
    UpperCase(InputStream in) {
      super(in);
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = super.read(b, off, len);
      for (int i = off; i < off + Math.max(n, 0); i++) {
        if (b[i] >= 'a' && b[i] <= 'z') {
          b[i] -= 32;
        }
      }
      return n;
    }
  }
}
