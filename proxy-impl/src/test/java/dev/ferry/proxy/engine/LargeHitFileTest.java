package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.proxy.CacheSpec;
import dev.ferry.proxy.CacheStats;
import dev.ferry.proxy.Concurrency;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Large cache hits on platform threads are sent from a file of their own in shared memory
 * ({@code sendfile}): byte for byte, never with another body's bytes (the kernel sends a file's
 * pages after the call returns), and never past the write timeout or the proxy's stop (a thread
 * in {@code sendfile} is woken only by shutting the socket's output down).
 */
class LargeHitFileTest {
  private static final Path SHARED_MEMORY = Path.of("/dev/shm");
  private static final int LARGE = 192 * 1024;

  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();
  /** What the origin answers for each path now. */
  private final Map<String, byte[]> bodies = new ConcurrentHashMap<>();
  private TinyOrigin origin;

  @BeforeEach
  void origin() throws IOException {
    assumeTrue(Files.isDirectory(SHARED_MEMORY) && Files.isWritable(SHARED_MEMORY),
        "large hits are sent from files only where /dev/shm is a writable directory (Linux)");
    TinyOrigin[] self = new TinyOrigin[1];
    self[0] = ferry.track(new TinyOrigin((socket, in, out) -> {
      TinyOrigin.Received request;
      while ((request = self[0].readRequest(in)) != null) {
        byte[] body = bodies.getOrDefault(request.requestLine().split(" ")[1], "ok".getBytes(StandardCharsets.US_ASCII));
        out.write(("HTTP/1.1 200 OK\r\nCache-Control: max-age=600\r\nContent-Length: " + body.length + "\r\n\r\n")
            .getBytes(StandardCharsets.ISO_8859_1));
        out.write(body);
        out.flush();
      }
    }));
    origin = self[0];
  }

  private ProxyServer.Builder cachingPool() {
    return ProxyServer.builder().upstream(Upstream.of(origin.url("/")))
        .concurrency(Concurrency.boundedPool(8, 0))
        .cache(CacheSpec.inMemory().maxSizeBytes(64L << 20).maxEntryBytes(16L << 20));
  }

  @Test
  void sendsALargeHitFromAFileOfItsOwnByteExact() throws Exception {
    byte[] large = random(LARGE, 1);
    bodies.put("/large", large);
    long filesBefore = openBodyFiles();
    ProxyServer proxy = ferry.start(cachingPool());

    assertThat(fetch(proxy, "/large", "MISS")).isEqualTo(large);
    assertThat(openBodyFiles()).as("the stored body's file, unlinked and open").isEqualTo(filesBefore + 1);
    for (int i = 0; i < 3; i++) {
      assertThat(fetch(proxy, "/large", "HIT")).isEqualTo(large);
    }
    try (RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse range = raw.send("GET /large HTTP/1.1\r\nHost: a\r\nRange: bytes=100000-100099\r\n\r\n")
          .readResponse();
      assertThat(range.status()).isEqualTo(206);
      assertThat(range.body()).isEqualTo(Arrays.copyOfRange(large, 100_000, 100_100));
      RawClient.RawResponse head = raw.send("HEAD /large HTTP/1.1\r\nHost: a\r\n\r\n").readResponse(true);
      assertThat(head.header("Content-Length")).isEqualTo(Integer.toString(LARGE));
    }
    assertThat(origin.connectionCount()).isEqualTo(1);

    proxy.stop(Duration.ofSeconds(1));
    assertThat(openBodyFiles()).as("the files' descriptors close with the proxy").isEqualTo(filesBefore);
  }

  /**
   * The cache's statistics and {@code /_stats} say where stored bodies lie off the heap: a large
   * one in a file, a middling one in direct memory, a small one on the heap (counted in neither);
   * purged, they count until the collector has found them unreachable.
   */
  @Test
  void reportsTheStoredBodiesHeldInFilesAndInDirectMemory() throws Exception {
    bodies.put("/large", random(LARGE, 6));
    bodies.put("/medium", random(32 * 1024, 7));
    ProxyServer proxy = ferry.start(cachingPool().admin(new InetSocketAddress("127.0.0.1", 0)));
    fetch(proxy, "/large", "MISS");
    fetch(proxy, "/medium", "MISS");
    fetch(proxy, "/small", "MISS");

    CacheStats stats = proxy.cache().orElseThrow().stats();
    assertThat(stats.fileBytes()).isEqualTo(LARGE);
    assertThat(stats.bodyFiles()).isOne();
    assertThat(stats.directBytes()).isEqualTo(32 * 1024);
    try (RawClient raw = new RawClient(proxy.adminAddress().orElseThrow())) {
      String json = new String(raw.send("GET /_stats HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").readResponse().body(),
          StandardCharsets.UTF_8).replace(" ", "");
      assertThat(json).contains("\"file_bytes\":" + LARGE, "\"body_files\":1", "\"direct_bytes\":" + 32 * 1024);
    }

    proxy.cache().orElseThrow().purgeAll();
    Await.until(() -> {
      System.gc();
      CacheStats now = proxy.cache().orElseThrow().stats();
      return now.fileBytes() == 0 && now.bodyFiles() == 0 && now.directBytes() == 0;
    }, "the purged bodies to be collected and counted out");
  }

  /**
   * A hit whose whole answer the kernel holds for a client that reads nothing yet: its entry is
   * purged, its file closed once collected, other bodies stored meanwhile, and the client then
   * reads the bytes it was sent, not any of theirs. (Stored in one file whose blocks were reused,
   * a slow reader got another URL's bytes.)
   */
  @Test
  void keepsTheBytesOfAHitTheKernelStillHoldsWhenItsFileGoes() throws Exception {
    byte[] first = random(LARGE, 2);
    bodies.put("/a", first);
    ProxyServer proxy = ferry.start(cachingPool());
    assertThat(fetch(proxy, "/a", "MISS")).isEqualTo(first);
    long filesWithA = openBodyFiles();

    try (Socket slow = ferry.track(slowReader(proxy))) {
      long started = proxy.stats().exchanges();
      slow.getOutputStream().write("GET /a HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      Await.until(() -> proxy.stats().exchanges() > started && proxy.stats().activeExchanges() == 0,
          "the hit to be handed whole to the kernel, the client having read none of it");

      bodies.put("/a", random(LARGE, 3));
      proxy.cache().orElseThrow().purgeAll();
      int[] next = {0};
      Await.until(() -> {
        // Others' bodies go to files of their own meanwhile, and each store looks for collected ones.
        String path = "/other" + next[0]++;
        bodies.put(path, random(LARGE, 100 + next[0]));
        fetchQuietly(proxy, path);
        System.gc();
        return openBodyFiles() < filesWithA + next[0];
      }, "the purged body's file to be closed");
      assertThat(fetch(proxy, "/a", "MISS")).isEqualTo(bodies.get("/a"));

      RawClient.RawResponse late = new RawClient(slow).readResponse();
      assertThat(late.header("X-Cache")).isEqualTo("HIT");
      assertThat(late.body()).as("the bytes of the body it was sent").isEqualTo(first);
    }
  }

  /**
   * Hits stalled in {@code sendfile} (clients that read nothing) are cut at the write timeout,
   * each with a reset (the woken thread's own close raced the reset and sometimes sent a FIN,
   * leaving an orphaned socket with megabytes queued), and the pool's threads serve the next.
   */
  @Test
  void resetsHitsStalledInTheirFileAtTheWriteTimeoutAndServesTheNext() throws Exception {
    byte[] large = random(8 << 20, 4);
    bodies.put("/big", large);
    int stalledClients = 6;
    // A queue: a thread may still be storing the miss's body when the next client comes.
    ProxyServer proxy = ferry.start(cachingPool().concurrency(Concurrency.boundedPool(stalledClients, 16))
        .writeTimeout(Duration.ofMillis(500)));
    assertThat(fetch(proxy, "/big", "MISS")).isEqualTo(large);

    List<Socket> stalled = new ArrayList<>();
    for (int i = 0; i < stalledClients; i++) {
      Socket client = ferry.track(slowReader(proxy));
      client.getOutputStream().write("GET /big HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      assertThat(readHead(client.getInputStream())).contains("X-Cache: HIT");
      stalled.add(client);
    }
    Await.until(() -> proxy.stats().writeTimeouts() == stalledClients, "a write timeout on each stalled client");
    Await.until(() -> proxy.stats().activeConnections() == 0, "the stalled connections to end");
    for (Socket client : stalled) {
      WriteTimeoutTest.assertEndsInAReset(client);
      client.close();
    }
    Await.until(() -> proxy.stats().activeWorkers() == 0, "the pool's threads to be free");
    Await.until(() -> proxy.stats().failures().getOrDefault("WRITE_TIMEOUT", 0L) == stalledClients,
        "the exchanges counted as WRITE_TIMEOUT");
    assertThat(fetch(proxy, "/big", "HIT")).isEqualTo(large);
  }

  @Test
  void stopsWithAHitStalledInItsFile() throws Exception {
    byte[] large = random(8 << 20, 5);
    bodies.put("/big", large);
    ProxyServer proxy = ferry.start(cachingPool());
    assertThat(fetch(proxy, "/big", "MISS")).isEqualTo(large);
    try (Socket stalled = ferry.track(slowReader(proxy))) {
      stalled.getOutputStream().write("GET /big HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      assertThat(readHead(stalled.getInputStream())).contains("X-Cache: HIT");
      proxy.stop(Duration.ofMillis(300));
      assertThat(proxy.stats().activeConnections()).isZero();
    }
    Await.until(() -> proxy.stats().failures().getOrDefault("PROXY_STOPPED", 0L) == 1L,
        "the exchange counted as PROXY_STOPPED");
  }

  /** Reads a response's head, byte by byte, leaving its body unread. */
  private static String readHead(InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    while (head.indexOf("\r\n\r\n") < 0) {
      int b = in.read();
      if (b < 0) {
        throw new AssertionError("the connection ended within the head: " + head);
      }
      head.append((char) b);
    }
    return head.toString();
  }

  private static Socket slowReader(ProxyServer proxy) throws IOException {
    Socket socket = new Socket();
    socket.setReceiveBufferSize(4096);
    socket.connect(proxy.address(), 5000);
    return socket;
  }

  private static byte[] fetch(ProxyServer proxy, String path, String verdict) throws IOException {
    try (RawClient raw = new RawClient(proxy.address())) {
      RawClient.RawResponse response = raw.send("GET " + path + " HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.header("X-Cache")).as(path).isEqualTo(verdict);
      return response.body();
    }
  }

  private static void fetchQuietly(ProxyServer proxy, String path) {
    try (RawClient raw = new RawClient(proxy.address())) {
      raw.send("GET " + path + " HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** This process's open descriptors of body files in /dev/shm (unlinked: "... (deleted)"). */
  private static long openBodyFiles() {
    try (Stream<Path> descriptors = Files.list(Path.of("/proc/self/fd"))) {
      return descriptors.filter(fd -> {
        try {
          // Not the body files of unit tests elsewhere in this JVM, in temporary directories.
          return Files.readSymbolicLink(fd).toString().startsWith(SHARED_MEMORY + "/ferry-body-");
        } catch (IOException e) {
          return false; // closed meanwhile
        }
      }).count();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] random(int length, long seed) {
    byte[] bytes = new byte[length];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }
}
