package dev.ferry.proxy.engine.io;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Connections' buffers of the pooled size are lent again once given back; others are not kept. */
class ConnectionBuffersTest {
  @Test
  void lendsABufferGivenBackAgain() {
    byte[] first = ConnectionBuffers.take(ConnectionBuffers.SIZE);
    byte[] second = ConnectionBuffers.take(ConnectionBuffers.SIZE);
    assertThat(first).hasSize(ConnectionBuffers.SIZE).isNotSameAs(second);
    ConnectionBuffers.give(first);
    assertThat(ConnectionBuffers.take(ConnectionBuffers.SIZE)).isSameAs(first);
    ConnectionBuffers.give(first);
    ConnectionBuffers.give(second);
  }

  @Test
  void keepsNoBufferOfAnotherSize() {
    byte[] small = ConnectionBuffers.take(4096);
    assertThat(small).hasSize(4096);
    ConnectionBuffers.give(small);
    assertThat(ConnectionBuffers.take(4096)).isNotSameAs(small);
  }
}
