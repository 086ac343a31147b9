package dev.ferry.proxy.engine.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.proxy.CacheSpec;
import dev.ferry.proxy.Concurrency;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import dev.ferry.proxy.engine.Await;
import dev.ferry.proxy.engine.ProxyTestExtension;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okio.Buffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Large bodies of a cache on platform threads are kept in a file in shared memory and hits are
 * sent from it: byte for byte, never another body's bytes, and the file is gone with the proxy.
 */
class BodyFileTest {
  private static final Path SHARED_MEMORY = Path.of("/dev/shm");

  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();
  private final HttpClient client = HttpClient.newHttpClient();

  @Test
  void sendsLargeHitsFromTheBodyFileByteForByte() throws Exception {
    assumeTrue(Files.isDirectory(SHARED_MEMORY), "no /dev/shm here: bodies stay in direct buffers");
    MockWebServer origin = ferry.mockOrigin();
    byte[] large = random(200_000, 1);
    origin.enqueue(new MockResponse().setHeader("Cache-Control", "max-age=100").setBody(new Buffer().write(large)));
    ProxyServer proxy = ferry.start(pooled(origin, CacheSpec.inMemory()));

    for (String verdict : List.of("MISS", "HIT", "HIT")) {
      HttpResponse<byte[]> response = get(proxy, "/large", null);
      assertThat(response.headers().firstValue("X-Cache")).hasValue(verdict);
      assertThat(response.body()).isEqualTo(large);
    }
    assertThat(bodyFilesOpen()).isEqualTo(1);
    HttpResponse<byte[]> range = get(proxy, "/large", "bytes=150000-150099");
    assertThat(range.statusCode()).isEqualTo(206);
    assertThat(range.body()).isEqualTo(Arrays.copyOfRange(large, 150_000, 150_100));
    assertThat(origin.getRequestCount()).isEqualTo(1);

    proxy.close();
    assertThat(bodyFilesOpen()).as("the body file is closed with the proxy").isZero();
  }

  @Test
  void keepsSmallBodiesAndVirtualThreadsOutOfTheBodyFile() throws Exception {
    assumeTrue(Files.isDirectory(SHARED_MEMORY), "no /dev/shm here: bodies stay in direct buffers");
    MockWebServer origin = ferry.mockOrigin();
    origin.enqueue(new MockResponse().setHeader("Cache-Control", "max-age=100").setBody(new Buffer().write(random(60_000, 2))));
    ProxyServer proxy = ferry.start(pooled(origin, CacheSpec.inMemory()));
    get(proxy, "/small", null);
    assertThat(get(proxy, "/small", null).headers().firstValue("X-Cache")).hasValue("HIT");
    assertThat(bodyFilesOpen()).as("60,000 bytes go out with their head in one write").isZero();

    if (Runtime.version().feature() >= 21) {
      MockWebServer second = ferry.mockOrigin();
      byte[] large = random(200_000, 3);
      second.enqueue(new MockResponse().setHeader("Cache-Control", "max-age=100").setBody(new Buffer().write(large)));
      ProxyServer virtual = ferry.start(ProxyServer.builder().upstream(Upstream.of(second.url("/").toString()))
          .concurrency(Concurrency.virtualThreads()).cache(CacheSpec.inMemory()));
      get(virtual, "/large", null);
      assertThat(get(virtual, "/large", null).body()).isEqualTo(large);
      assertThat(bodyFilesOpen()).as("a virtual thread's transfer from a file would hold its carrier").isZero();
    }
  }

  /**
   * A hit still being sent holds its body's blocks: purged and its blocks wanted by new bodies,
   * with collections in between, the slow client still gets its own bytes to the last.
   */
  @Test
  void neverSendsAnotherBodysBytesToAClientStillReading() throws Exception {
    assumeTrue(Files.isDirectory(SHARED_MEMORY), "no /dev/shm here: bodies stay in direct buffers");
    MockWebServer origin = ferry.mockOrigin();
    int size = 6 << 20;
    List<byte[]> bodies = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      bodies.add(random(size, 10 + i));
      origin.enqueue(new MockResponse().setHeader("Cache-Control", "max-age=100")
          .setBody(new Buffer().write(bodies.get(i))));
    }
    ProxyServer proxy = ferry.start(pooled(origin,
        CacheSpec.inMemory().maxSizeBytes(16 << 20).maxEntryBytes(8 << 20)));
    assertThat(get(proxy, "/0", null).body()).isEqualTo(bodies.get(0));

    try (Socket slow = new Socket()) {
      slow.setReceiveBufferSize(16 * 1024);
      slow.connect(new InetSocketAddress("127.0.0.1", proxy.port()), 5_000);
      slow.setSoTimeout(10_000);
      OutputStream out = slow.getOutputStream();
      out.write(("GET /0 HTTP/1.1\r\nHost: localhost:" + proxy.port() + "\r\n\r\n")
          .getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = slow.getInputStream();
      String head = readHead(in);
      assertThat(head).startsWith("HTTP/1.1 200").contains("X-Cache: HIT");
      byte[] first = in.readNBytes(64 * 1024);

      assertThat(proxy.cache().orElseThrow().purge("http://localhost:" + proxy.port() + "/0")).isTrue();
      for (int i = 1; i < 4; i++) {
        System.gc();
        assertThat(get(proxy, "/" + i, null).body()).isEqualTo(bodies.get(i));
        assertThat(get(proxy, "/" + i, null).body()).as("hit " + i).isEqualTo(bodies.get(i));
      }
      System.gc();

      byte[] rest = in.readNBytes(size - first.length);
      byte[] received = new byte[size];
      System.arraycopy(first, 0, received, 0, first.length);
      System.arraycopy(rest, 0, received, first.length, rest.length);
      assertThat(Arrays.equals(received, bodies.get(0))).as("the slow client's bytes are its body's").isTrue();
    }
  }

  @Test
  void takesAdjacentBlocksAndFreesThemOnceTheMappingIsCollected(@TempDir Path directory) {
    AtomicLong freed = new AtomicLong();
    BodyFile file = BodyFile.open(directory, 4L * BodyFile.BLOCK_BYTES, 8, freed::addAndGet);
    assertThat(file).isNotNull();
    try (Stream<Path> left = Files.list(directory)) {
      assertThat(left).as("the file is removed from its directory once open").isEmpty();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    try {
      byte[] two = random(BodyFile.BLOCK_BYTES + 1, 4);
      BodyFile.Region region = file.store(ByteBuffer.wrap(two));
      assertThat(region).isNotNull();
      assertThat(file.blocksTaken()).isEqualTo(2);
      ByteBuffer bytes = region.bytes();
      byte[] read = new byte[bytes.remaining()];
      bytes.get(read);
      assertThat(read).isEqualTo(two);

      BodyFile.Region other = file.store(ByteBuffer.wrap(random(BodyFile.BLOCK_BYTES, 5)));
      assertThat(other.offset()).isEqualTo(2L * BodyFile.BLOCK_BYTES);
      assertThat(file.store(ByteBuffer.wrap(random(BodyFile.BLOCK_BYTES + 1, 6))))
          .as("no two adjacent blocks left").isNull();

      region = null;
      bytes = null;
      Await.until(() -> {
        System.gc();
        file.drain();
        return file.blocksTaken() == 1;
      }, "the first body's blocks given back once its mapping was collected");
      assertThat(freed.get()).isEqualTo(two.length);
      assertThat(file.store(ByteBuffer.wrap(random(BodyFile.BLOCK_BYTES + 1, 7))).offset()).isZero();
      assertThat(other.length()).isEqualTo(BodyFile.BLOCK_BYTES);
    } finally {
      file.close();
    }
  }

  @Test
  void opensNoFileWhereTheDirectoryIsMissingOrTooSmallForABody(@TempDir Path directory) {
    assertThat(BodyFile.open(directory.resolve("missing"), 1 << 20, 8, n -> { })).isNull();
    assertThat(BodyFile.open(directory, BodyFile.MIN_BYTES - 1, 8, n -> { })).isNull();
  }

  @Test
  void keepsNoMoreBodiesThanItsBoundOnMappings(@TempDir Path directory) {
    BodyFile file = BodyFile.open(directory, 8L * BodyFile.BLOCK_BYTES, 2, n -> { });
    try {
      List<BodyFile.Region> kept = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        kept.add(file.store(ByteBuffer.wrap(random(BodyFile.BLOCK_BYTES, 20 + i))));
      }
      assertThat(kept).doesNotContainNull();
      assertThat(file.store(ByteBuffer.wrap(random(BodyFile.BLOCK_BYTES, 22))))
          .as("blocks are free, but a third mapping is past the bound").isNull();
      assertThat(kept).hasSize(2);
    } finally {
      file.close();
    }
  }

  private static ProxyServer.Builder pooled(MockWebServer origin, CacheSpec cache) {
    return ProxyServer.builder().upstream(Upstream.of(origin.url("/").toString()))
        .concurrency(Concurrency.boundedPool(8, 16)).cache(cache);
  }

  private HttpResponse<byte[]> get(ProxyServer proxy, String path, String range) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://localhost:" + proxy.port() + path));
    if (range != null) {
      request.header("Range", range);
    }
    return client.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private static String readHead(InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("connection closed in the head: " + head);
      }
      head.append((char) b);
    }
    return head.toString();
  }

  /** This JVM's open descriptors on a body file. */
  private static long bodyFilesOpen() throws IOException {
    try (Stream<Path> descriptors = Files.list(Path.of("/proc/self/fd"))) {
      return descriptors.filter(fd -> {
        try {
          return Files.readSymbolicLink(fd).toString().contains("ferry-cache-");
        } catch (IOException e) {
          return false;
        }
      }).count();
    }
  }

  private static byte[] random(int size, long seed) {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }
}
