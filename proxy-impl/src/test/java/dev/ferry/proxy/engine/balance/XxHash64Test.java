package dev.ferry.proxy.engine.balance;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class XxHash64Test {

  @Test
  void matchesTheReferenceVectors() {
    assertThat(XxHash64.hash("")).isEqualTo(0xEF46DB3751D8E999L);
    assertThat(XxHash64.hash("a")).isEqualTo(0xD24EC4F1A98C6E5BL);
    assertThat(XxHash64.hash("abc")).isEqualTo(0x44BC2CF5AD770999L);
    assertThat(XxHash64.hash("asdf")).isEqualTo(0x415872F599CEA71EL);
    assertThat(XxHash64.hash("Call me Ishmael.")).isEqualTo(0x6D04390FC9D61A90L);
    // 39 bytes: the 32-byte stripe loop, then 8-byte, then single-byte tails.
    assertThat(XxHash64.hash("Nobody inspects the spammish repetition")).isEqualTo(0xFBCEA83C8A378BF1L);
  }
}
