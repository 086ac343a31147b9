package dev.ferry.proxy.engine.io;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The pooled buffers an input grows through while it awaits a request body whole. */
class GrowthBuffersTest {
  @Test
  void sizesBuffersInPowersOfTwoUpToTheLargestPooled() {
    assertThat(GrowthBuffers.sizeFor(1)).isEqualTo(32 * 1024);
    assertThat(GrowthBuffers.sizeFor(32 * 1024)).isEqualTo(32 * 1024);
    assertThat(GrowthBuffers.sizeFor(32 * 1024 + 1)).isEqualTo(64 * 1024);
    assertThat(GrowthBuffers.sizeFor(102_400 + 300)).isEqualTo(128 * 1024);
    assertThat(GrowthBuffers.sizeFor(2 * 1024 * 1024)).isEqualTo(2 * 1024 * 1024);
    assertThat(GrowthBuffers.sizeFor(2 * 1024 * 1024 + 1)).as("past the largest: exact").isEqualTo(2 * 1024 * 1024 + 1);
  }

  @Test
  void givesBackABufferForTheNextToTake() {
    byte[] first = GrowthBuffers.take(100_000);
    assertThat(first).hasSize(128 * 1024);
    GrowthBuffers.give(first);
    assertThat(GrowthBuffers.take(70_000)).as("same size, from the pool").isSameAs(first);
    byte[] large = GrowthBuffers.take(3 * 1024 * 1024);
    assertThat(large).hasSize(3 * 1024 * 1024);
    GrowthBuffers.give(large);
    assertThat(GrowthBuffers.take(3 * 1024 * 1024)).as("not pooled").isNotSameAs(large);
  }
}
