package dev.ferry.proxy.engine.http1;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class NameSetTest {
  private final NameSet set = NameSet.of("Connection", "keep-alive", "X-Forwarded-For", "~tilde", "a");

  @Test
  void findsMembersInAnyAsciiCase() {
    assertThat(set.contains("connection")).isTrue();
    assertThat(set.contains("CONNECTION")).isTrue();
    assertThat(set.contains("Keep-Alive")).isTrue();
    assertThat(set.contains("x-forwarded-for")).isTrue();
    assertThat(set.contains("~TILDE")).isTrue();
    assertThat(set.contains("A")).isTrue();
  }

  @Test
  void rejectsNamesThatDifferBeyondCase() {
    assertThat(set.contains("connectioN2")).isFalse();
    assertThat(set.contains("Kept-Alive")).isFalse();
    assertThat(set.contains("Xonnection")).isFalse();
    // '^' and '~' differ by the bit that folds ASCII letters: still different names.
    assertThat(set.contains("^tilde")).isFalse();
    assertThat(set.contains("")).isFalse();
    assertThat(NameSet.EMPTY.contains("connection")).isFalse();
    assertThat(set.contains("a-much-longer-name-than-any-member")).isFalse();
  }
}
