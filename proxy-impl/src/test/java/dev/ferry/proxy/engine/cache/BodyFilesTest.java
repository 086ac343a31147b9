package dev.ferry.proxy.engine.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.CacheEntry;
import dev.ferry.proxy.Headers;
import dev.ferry.proxy.engine.Await;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Large bodies in files of their own: unlinked, written once, closed once nothing holds them. */
class BodyFilesTest {
  @TempDir Path directory;

  @Test
  void keepsALargeBodyInAnUnlinkedFileOfItsOwn() throws Exception {
    StoredBodies bodies = new StoredBodies(1 << 20, directory);
    byte[] bytes = random(BodyFiles.MIN_BYTES + 1000, 1);
    ByteBuffer source = ByteBuffer.wrap(bytes);
    CacheEntry entry = bodies.store(source, BodyFilesTest::entry);

    BodyFiles.Region region = bodies.region(entry);
    assertThat(region).isNotNull();
    assertThat(region.file().size()).isEqualTo(bytes.length);
    assertThat(entry.body()).isEqualTo(ByteBuffer.wrap(bytes));
    assertThat(entry.body().isDirect()).isTrue();
    assertThat(source.hasRemaining()).as("the source consumed").isFalse();
    try (Stream<Path> names = Files.list(directory)) {
      assertThat(names).as("the file unlinked at once").isEmpty();
    }
    assertThat(bodies.offHeapBytes()).isEqualTo(bytes.length);
  }

  @Test
  void keepsSmallerBodiesAndThosePastTheCachesBoundInMemory() {
    StoredBodies bodies = new StoredBodies(2 * BodyFiles.MIN_BYTES + 10_000, directory);
    CacheEntry small = bodies.store(ByteBuffer.wrap(random(BodyFiles.MIN_BYTES - 1, 2)), BodyFilesTest::entry);
    CacheEntry first = bodies.store(ByteBuffer.wrap(random(BodyFiles.MIN_BYTES, 3)), BodyFilesTest::entry);
    byte[] past = random(BodyFiles.MIN_BYTES, 4);
    CacheEntry second = bodies.store(ByteBuffer.wrap(past), BodyFilesTest::entry);

    assertThat(bodies.region(small)).isNull();
    assertThat(bodies.region(first)).isNotNull();
    assertThat(bodies.region(second)).as("past the bound the files share with direct memory").isNull();
    assertThat(second.body().isDirect()).isFalse();
    assertThat(second.body()).isEqualTo(ByteBuffer.wrap(past));
  }

  @Test
  void closesTheFileOnceNoEntryHoldsIt() {
    StoredBodies bodies = new StoredBodies(1 << 20, directory);
    FileChannel file = bodies.region(bodies.store(ByteBuffer.wrap(random(BodyFiles.MIN_BYTES, 5)),
        BodyFilesTest::entry)).file();
    assertThat(file.isOpen()).isTrue();

    Await.until(() -> {
      System.gc();
      // Each store looks for bodies the collector found unreachable.
      bodies.store(ByteBuffer.wrap(new byte[100]), BodyFilesTest::entry);
      return !file.isOpen();
    }, "the dropped body's file to be closed");
    assertThat(bodies.offHeapBytes()).isZero();
  }

  @Test
  void carriesTheFileOverToAnEntryWithNewHeaders() {
    StoredBodies bodies = new StoredBodies(1 << 20, directory);
    CacheEntry stored = bodies.store(ByteBuffer.wrap(random(BodyFiles.MIN_BYTES, 6)), BodyFilesTest::entry);
    CacheEntry updated = bodies.sameBody(stored,
        stored.withHeaders(Headers.of("ETag", "\"2\""), Instant.EPOCH, Instant.EPOCH));
    assertThat(bodies.region(updated)).isSameAs(bodies.region(stored));
  }

  @Test
  void keepsBodiesInMemoryWithoutTheDirectory() {
    StoredBodies bodies = new StoredBodies(1 << 20, directory.resolve("missing"));
    CacheEntry entry = bodies.store(ByteBuffer.wrap(random(BodyFiles.MIN_BYTES, 7)), BodyFilesTest::entry);
    assertThat(bodies.region(entry)).isNull();
    assertThat(entry.body().isDirect()).as("in direct memory, as without files").isTrue();
  }

  @Test
  void sendsNothingFromAFileOnceTheProxyStops() {
    StoredBodies bodies = new StoredBodies(1 << 20, directory);
    byte[] bytes = random(BodyFiles.MIN_BYTES, 8);
    CacheEntry entry = bodies.store(ByteBuffer.wrap(bytes), BodyFilesTest::entry);
    bodies.close();
    assertThat(bodies.region(entry).file().isOpen()).isFalse();
    assertThat(entry.body()).as("still read from its mapping").isEqualTo(ByteBuffer.wrap(bytes));
    assertThat(bodies.region(bodies.store(ByteBuffer.wrap(random(BodyFiles.MIN_BYTES, 9)), BodyFilesTest::entry)))
        .as("no new file once closed").isNull();
  }

  /**
   * The JDK writes a heap buffer through a temporary direct buffer of the write's size, kept
   * per thread: written whole, an 8 MiB body left its storing thread holding 8 MiB for good.
   */
  @Test
  void leavesTheStoringThreadNoBufferAsLargeAsTheBody() throws Exception {
    StoredBodies bodies = new StoredBodies(64 << 20, directory);
    BufferPoolMXBean direct = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
        .filter(pool -> pool.getName().equals("direct")).findFirst().orElseThrow();
    long[] grown = {Long.MAX_VALUE};
    CacheEntry[] stored = new CacheEntry[1];
    Thread storing = new Thread(() -> {
      long before = direct.getTotalCapacity();
      stored[0] = bodies.store(ByteBuffer.wrap(random(8 << 20, 10)), BodyFilesTest::entry);
      grown[0] = direct.getTotalCapacity() - before;
    });
    storing.start();
    storing.join(30_000);
    assertThat(bodies.region(stored[0])).as("the body in a file").isNotNull();
    assertThat(grown[0]).as("direct memory the storing thread kept (others may free some meanwhile)")
        .isLessThan(1L << 20);
  }

  private static CacheEntry entry(ByteBuffer body) {
    return CacheEntry.of(200, "OK", Headers.of("ETag", "\"1\""), body, Instant.EPOCH, Instant.EPOCH, "");
  }

  private static byte[] random(int length, long seed) {
    byte[] bytes = new byte[length];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }
}
