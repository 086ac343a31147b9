package dev.ferry.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
}
