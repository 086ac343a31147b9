package dev.ferry.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** CacheSpec checks each argument at once and how they relate in one place, in any order. */
class CacheSpecTest {
  private static final long MIB = 1L << 20;

  @Test
  void acceptsSizesInAnyOrder() {
    CacheSpec sizeFirst = CacheSpec.inMemory().maxSizeBytes(64 * MIB).maxEntryBytes(20 * MIB);
    CacheSpec entryFirst = CacheSpec.inMemory().maxEntryBytes(20 * MIB).maxSizeBytes(64 * MIB);
    assertThat(entryFirst).isEqualTo(sizeFirst).hasSameHashCodeAs(sizeFirst);
    sizeFirst.checkConsistent();
    entryFirst.checkConsistent();
    assertThat(entryFirst.maxSizeBytes()).isEqualTo(64 * MIB);
    assertThat(entryFirst.maxEntryBytes()).isEqualTo(20 * MIB);
  }

  @Test
  void rejectsEntryLargerThanTheCacheInAnyOrder() {
    String message = "maxEntryBytes must not exceed maxSizeBytes (was 20971520 > 10485760); "
        + "raise maxSizeBytes or lower maxEntryBytes";
    assertThatThrownBy(() -> CacheSpec.inMemory().maxEntryBytes(20 * MIB).maxSizeBytes(10 * MIB).checkConsistent())
        .isInstanceOf(IllegalStateException.class).hasMessage(message);
    assertThatThrownBy(() -> CacheSpec.inMemory().maxSizeBytes(10 * MIB).maxEntryBytes(20 * MIB).checkConsistent())
        .isInstanceOf(IllegalStateException.class).hasMessage(message);
  }

  @Test
  void rejectsOutOfRangeSizesAtOnce() {
    assertThatThrownBy(() -> CacheSpec.inMemory().maxSizeBytes(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxSizeBytes must be between 1 and 1099511627776 (was 0)");
    assertThatThrownBy(() -> CacheSpec.inMemory().maxSizeBytes((1L << 40) + 1))
        .hasMessageContaining("(was 1099511627777)");
    assertThatThrownBy(() -> CacheSpec.inMemory().maxEntryBytes(0))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("maxEntryBytes must be at least 1 (was 0)");
  }

  @Test
  void leavesSetCookieResponsesUnstoredUnlessAsked() {
    assertThat(CacheSpec.inMemory().storesSetCookie()).isFalse();
    CacheSpec storing = CacheSpec.inMemory().storeSetCookie(true);
    assertThat(storing.storesSetCookie()).isTrue();
    assertThat(storing).isNotEqualTo(CacheSpec.inMemory());
    assertThat(storing).hasToString("inMemory(maxSizeBytes=10485760, maxEntryBytes=1048576, storeSetCookie=true)");
    assertThat(CacheSpec.inMemory()).hasToString("inMemory(maxSizeBytes=10485760, maxEntryBytes=1048576)");
  }

  @Test
  void purgesFromLoopbackUnlessToldOtherwiseAndChecksEachBlock() {
    assertThat(CacheSpec.inMemory().purgeClients()).containsExactly("127.0.0.0/8", "::1");
    CacheSpec deployHosts = CacheSpec.inMemory().purgeFrom("10.1.0.0/16", "2001:db8::/32");
    assertThat(deployHosts.purgeClients()).containsExactly("10.1.0.0/16", "2001:db8::/32");
    assertThat(deployHosts).isNotEqualTo(CacheSpec.inMemory())
        .hasToString("inMemory(maxSizeBytes=10485760, maxEntryBytes=1048576, purgeFrom=[10.1.0.0/16, 2001:db8::/32])");
    assertThat(CacheSpec.inMemory().purgeFrom().purgeClients()).isEmpty();
    assertThatThrownBy(() -> CacheSpec.inMemory().purgeFrom("10.0.0.0/33"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("10.0.0.0/33");
    assertThatThrownBy(() -> CacheSpec.inMemory().purgeFrom("deploy.example.com"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("deploy.example.com");
  }

  @Test
  void takesAnEntrysBodyBufferOverWithoutCopyingAndHandsOutReadOnlyViews() {
    ByteBuffer direct = ByteBuffer.allocateDirect(8).put("xxbodyyy".getBytes(StandardCharsets.US_ASCII));
    direct.position(2).limit(6);
    CacheEntry entry = CacheEntry.of(200, "OK", Headers.empty(), direct, Instant.EPOCH, Instant.EPOCH, "");
    assertThat(entry.bodyLength()).isEqualTo(4);
    ByteBuffer view = entry.body();
    assertThat(view.isDirect()).isTrue();
    assertThat(view.isReadOnly()).isTrue();
    assertThat(view.position()).isZero();
    byte[] read = new byte[4];
    view.get(read);
    assertThat(read).asString().isEqualTo("body");
    assertThat(entry.body().remaining()).as("each view starts at 0").isEqualTo(4);
    assertThatThrownBy(() -> entry.body().put((byte) 0)).isInstanceOf(ReadOnlyBufferException.class);

    byte[] array = {1, 2, 3};
    CacheEntry copied = CacheEntry.of(200, "OK", Headers.empty(), array, Instant.EPOCH, Instant.EPOCH, "");
    array[0] = 9;
    assertThat(copied.body().get(0)).as("the byte[] factory copies").isEqualTo((byte) 1);
    assertThat(copied).hasToString("CacheEntry(200, 3 bytes, variant=\"\")");
  }
}
