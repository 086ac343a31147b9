package dev.ferry.proxy.engine.http1;

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

  @Test
  void escapesWhatCouldEndTheLineOrHideInIt() {
    assertThat(LogValues.of("a\nb")).isEqualTo("\"a\\x0Ab\"");
    assertThat(LogValues.of("caf\u00e9")).isEqualTo("\"caf\\xE9\"");
    assertThat(LogValues.of("a\u2192b")).isEqualTo("\"a\\u2192b\"");
  }
}
