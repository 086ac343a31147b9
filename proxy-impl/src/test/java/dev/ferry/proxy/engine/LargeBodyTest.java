package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A 1 GiB body streams through a proxy whose JVM has a 512 MiB heap (surefire's -Xmx): it can
 * only pass if nothing buffers the whole message.
 */
class LargeBodyTest {
  private static final long GIB = 1L << 30;
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();
  private ProxyServer proxy;

  @Test
  void streamsOneGibibyteResponse() throws Exception {
    TinyOrigin origin = ferry.track(new TinyOrigin((socket, in, out) -> {
      TinyOrigin.readLine(in);
      while (!TinyOrigin.readLine(in).isEmpty()) {
        // skip the head
      }
      out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + GIB + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
      writePattern(out, GIB);
    }));
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/"))));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET /big HTTP/1.1\r\nHost: a\r\n\r\n");
      InputStream in = raw.input();
      String statusLine = TinyOrigin.readLine(in);
      assertThat(statusLine).isEqualTo("HTTP/1.1 200 OK");
      while (!TinyOrigin.readLine(in).isEmpty()) {
        // skip the head
      }
      assertThat(checksum(in, GIB)).isEqualTo(patternChecksum(GIB));
    }
  }

  @Test
  void streamsLargeChunkedUpload() throws Exception {
    long size = 256L << 20;
    long[] received = new long[2];
    TinyOrigin origin = ferry.track(new TinyOrigin((socket, in, out) -> {
      TinyOrigin.readLine(in);
      String line;
      while (!(line = TinyOrigin.readLine(in)).isEmpty()) {
        assertThat(line).doesNotStartWith("Content-Length");
      }
      CRC32 crc = new CRC32();
      byte[] buffer = new byte[65536];
      long total = 0;
      while (true) {
        int chunk = Integer.parseInt(TinyOrigin.readLine(in).split(";")[0], 16);
        if (chunk == 0) {
          TinyOrigin.readLine(in);
          break;
        }
        int left = chunk;
        while (left > 0) {
          int n = in.read(buffer, 0, Math.min(left, buffer.length));
          crc.update(buffer, 0, n);
          left -= n;
          total += n;
        }
        TinyOrigin.readLine(in);
      }
      received[0] = total;
      received[1] = crc.getValue();
      out.write("HTTP/1.1 204 No Content\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
    }));
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/"))));
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
      OutputStream out = raw.output();
      byte[] chunk = new byte[1 << 20];
      for (long sent = 0; sent < size; sent += chunk.length) {
        fillPattern(chunk, sent);
        out.write((Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
        out.write(chunk);
        out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
      }
      out.write("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      assertThat(raw.readResponse().status()).isEqualTo(204);
    }
    assertThat(received[0]).isEqualTo(size);
    assertThat(received[1]).isEqualTo(patternChecksum(size));
  }

  /**
   * Unsized responses are copied through pooled buffers, borrowed per body: sixteen at once, each
   * with its own bytes, arrive whole and unmixed, and the pool gives none out twice.
   */
  @Test
  void keepsConcurrentUnsizedResponsesApart() throws Exception {
    int size = 2 << 20;
    TinyOrigin origin = ferry.track(new TinyOrigin((socket, in, out) -> {
      int seed = Integer.parseInt(TinyOrigin.readLine(in).split(" ")[1].substring(1));
      while (!TinyOrigin.readLine(in).isEmpty()) {
        // skip the head
      }
      out.write("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      out.write(seeded(seed, size));
      out.flush();
    }));
    proxy = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/"))));
    HttpClient client = HttpClient.newHttpClient();
    List<CompletableFuture<HttpResponse<byte[]>>> responses = new ArrayList<>();
    for (int seed = 1; seed <= 16; seed++) {
      responses.add(client.sendAsync(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + proxy.port() + "/" + seed)).build(),
          HttpResponse.BodyHandlers.ofByteArray()));
    }
    for (int seed = 1; seed <= 16; seed++) {
      HttpResponse<byte[]> response = responses.get(seed - 1).get(60, TimeUnit.SECONDS);
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.headers().firstValue("Transfer-Encoding")).contains("chunked");
      assertThat(response.body()).as("response %d", seed).isEqualTo(seeded(seed, size));
    }
  }

  private static byte[] seeded(int seed, int length) {
    byte[] bytes = new byte[length];
    for (int i = 0; i < length; i++) {
      bytes[i] = (byte) ((i * 7 + seed * 31) % 253);
    }
    return bytes;
  }

  private static void writePattern(OutputStream out, long length) throws java.io.IOException {
    byte[] buffer = new byte[1 << 16];
    for (long written = 0; written < length; written += buffer.length) {
      fillPattern(buffer, written);
      out.write(buffer, 0, (int) Math.min(buffer.length, length - written));
    }
    out.flush();
  }

  private static void fillPattern(byte[] buffer, long offset) {
    for (int i = 0; i < buffer.length; i++) {
      buffer[i] = (byte) ((offset + i) % 251);
    }
  }

  private static long patternChecksum(long length) {
    CRC32 crc = new CRC32();
    byte[] buffer = new byte[1 << 16];
    for (long done = 0; done < length; done += buffer.length) {
      fillPattern(buffer, done);
      crc.update(buffer, 0, (int) Math.min(buffer.length, length - done));
    }
    return crc.getValue();
  }

  private static long checksum(InputStream in, long length) throws java.io.IOException {
    CRC32 crc = new CRC32();
    byte[] buffer = new byte[1 << 16];
    long left = length;
    while (left > 0) {
      int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
      if (n < 0) {
        throw new java.io.EOFException(left + " bytes missing");
      }
      crc.update(buffer, 0, n);
      left -= n;
    }
    return crc.getValue();
  }
}
