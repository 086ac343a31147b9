package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Values a logfmt parser reads back whole: a target like {@code /a"b\c} used to end a uri= value early. */
class LogValuesTest {
  @Test
  void quotesOnlyValuesThatNeedIt() {
    assertThat(LogValues.of("http://a/b?c=1")).isEqualTo("\"http://a/b?c=1\"");
    assertThat(LogValues.of("/plain/path")).isEqualTo("/plain/path");
    assertThat(LogValues.of("/a\"b\\c")).isEqualTo("\"/a\\\"b\\\\c\"");
    assertThat(LogValues.of("")).isEqualTo("\"\"");
  }
}
