package dev.ferry.proxy.engine.http1;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.Headers;
import org.junit.jupiter.api.Test;

/** The fields that stay on one hop, matched in any letter case without lower-casing copies. */
class HopByHopTest {

  @Test
  void tellsWhetherConnectionListsAFieldAsTheStripDoes() {
    Headers headers = Headers.builder().add("Date", "x").add("Connection", "keep-alive, \tDATE ")
        .add("Connection", ",,Cache-Control").build();
    assertThat(HopByHop.connectionLists(headers, "Date")).isTrue();
    assertThat(HopByHop.connectionLists(headers, "cache-control")).isTrue();
    assertThat(HopByHop.connectionLists(headers, "Keep-Alive")).isTrue();
    assertThat(HopByHop.connectionLists(headers, "Dat")).isFalse();
    assertThat(HopByHop.connectionLists(headers, "Cache")).isFalse();
    assertThat(HopByHop.connectionLists(Headers.builder().add("Date", "x").build(), "Date")).isFalse();
    assertThat(HopByHop.strip(headers, false).contains("Date")).isFalse();
  }

  @Test
  void nameSetMatchesWholeNamesInAnyCase() {
    NameSet names = NameSet.of("content-length", "te", "Via");
    assertThat(names.contains("Content-Length")).isTrue();
    assertThat(names.contains("CONTENT-LENGTH")).isTrue();
    assertThat(names.contains("TE")).isTrue();
    assertThat(names.contains("via")).isTrue();
    assertThat(names.contains("content-lengths")).isFalse();
    assertThat(names.contains("t")).isFalse();
    assertThat(names.contains("a-very-long-name-longer-than-any-in-the-set")).isFalse();
    assertThat(NameSet.EMPTY.contains("")).isFalse();
  }

  @Test
  void stripsConnectionFieldsListedOptionsAndDroppedNamesInAnyCase() {
    Headers headers = Headers.of("Host", "a", "CONNECTION", "X-Secret, keep-alive", "Keep-Alive",
        "timeout=5", "x-secret", "1", "Transfer-Encoding", "chunked", "TE", "trailers",
        "Upgrade", "websocket", "X-Drop", "2", "Accept", "*/*");
    Headers.Builder kept = Headers.builder();
    HopByHop.strip(headers, false, NameSet.of("x-drop"), kept);
    assertThat(kept.build()).isEqualTo(Headers.of("Host", "a", "Accept", "*/*"));
  }

  @Test
  void keepsUpgradeWithItsConnectionOptionWhenAsked() {
    Headers headers = Headers.of("Connection", "Upgrade", "Upgrade", "websocket", "X-A", "1");
    assertThat(HopByHop.strip(headers, true))
        .isEqualTo(Headers.of("Upgrade", "websocket", "X-A", "1", "Connection", "Upgrade"));
    assertThat(HopByHop.strip(headers, false)).isEqualTo(Headers.of("X-A", "1"));
  }

  @Test
  void dropsTrailerFieldsThatMustNotBeTrailers() {
    Headers trailers = Headers.of("Content-Length", "3", "X-Checksum", "abc", "SET-COOKIE", "a=b");
    assertThat(HopByHop.stripTrailers(trailers)).isEqualTo(Headers.of("X-Checksum", "abc"));
  }
}
