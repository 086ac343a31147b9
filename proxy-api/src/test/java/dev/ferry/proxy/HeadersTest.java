package dev.ferry.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class HeadersTest {

  @Test
  void keepsOrderAndCaseAndLooksUpCaseInsensitively() {
    Headers headers = Headers.of("Content-Type", "text/plain", "X-A", "1", "x-a", "2");
    assertThat(headers.size()).isEqualTo(3);
    assertThat(headers.name(2)).isEqualTo("x-a");
    assertThat(headers.first("content-type")).hasValue("text/plain");
    assertThat(headers.all("X-A")).containsExactly("1", "2");
    assertThat(headers.all("missing")).isEmpty();
    assertThat(headers.toString()).isEqualTo("Content-Type: text/plain\nX-A: 1\nx-a: 2\n");
  }

  @Test
  void replacesAppendsAndRemovesWithoutMutating() {
    Headers headers = Headers.of("X-A", "1", "X-A", "2", "X-B", "3");
    assertThat(headers.with("x-a", "9").all("X-A")).containsExactly("9");
    assertThat(headers.plus("X-C", "4").name(3)).isEqualTo("X-C");
    assertThat(headers.without("X-A").size()).isEqualTo(1);
    assertThat(headers.size()).isEqualTo(3);
  }

  @Test
  void copiesChosenFieldsOfAnotherHeaders() {
    Headers from = Headers.of("X-A", "1", "X-B", "2", "X-C", "3");
    Headers copied = Headers.builder().add("X-Z", "0").add(from, 2).add(from, 0).build();
    assertThat(copied).isEqualTo(Headers.of("X-Z", "0", "X-C", "3", "X-A", "1"));
    assertThatThrownBy(() -> Headers.builder().add(from, 3))
        .isInstanceOf(IndexOutOfBoundsException.class);
  }

  @Test
  void builtHeadersStayAsBuiltWhenTheirBuilderChangesAfterwards() {
    Headers.Builder builder = Headers.builder().add("X-A", "1").add("X-B", "2");
    Headers first = builder.build();
    builder.add("X-C", "3");
    Headers second = builder.build();
    builder.remove("X-A").set("X-B", "9");
    Headers third = builder.build();

    assertThat(first).isEqualTo(Headers.of("X-A", "1", "X-B", "2"))
        .hasSameHashCodeAs(Headers.of("X-A", "1", "X-B", "2"));
    assertThat(first.size()).isEqualTo(2);
    assertThat(second).isEqualTo(Headers.of("X-A", "1", "X-B", "2", "X-C", "3"));
    assertThat(third).isEqualTo(Headers.of("X-C", "3", "X-B", "9"));
    assertThat(first).isNotEqualTo(second);
    assertThatThrownBy(() -> first.name(2)).isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> first.value(-1)).isInstanceOf(IndexOutOfBoundsException.class);
  }

  @Test
  void findsTokensInCommaLists() {
    Headers headers = Headers.of("Connection", "keep-alive, Upgrade");
    assertThat(headers.containsToken("connection", "upgrade")).isTrue();
    assertThat(headers.containsToken("Connection", "close")).isFalse();
    Headers spread = Headers.of("TE", "gzip", "Te", " ,\ttrailers\t ,", "X", "trailers");
    assertThat(spread.containsToken("te", "TRAILERS")).isTrue();
    assertThat(spread.containsToken("te", "")).isTrue(); // the empty member between the commas
    assertThat(spread.containsToken("te", "trailer")).isFalse();
    assertThat(spread.containsToken("te", "gzip, trailers")).isFalse();
    assertThat(Headers.of("TE", "trailersx").containsToken("TE", "trailers")).isFalse();
    assertThat(Headers.empty().containsToken("TE", "trailers")).isFalse();
  }

  @Test
  void comparesByContent() {
    assertThat(Headers.of("A", "1")).isEqualTo(Headers.of("A", "1")).hasSameHashCodeAs(Headers.of("A", "1"));
    assertThat(Headers.of("A", "1")).isNotEqualTo(Headers.of("a", "1"));
  }

  @Test
  void rejectsInvalidNamesNamingCharAndIndex() {
    assertThatThrownBy(() -> Headers.of("Bad Name", "x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Unexpected char 0x20 at 3 in header name: Bad Name");
    assertThatThrownBy(() -> Headers.of("Host:", "x")).hasMessageContaining("0x3a at 4");
    assertThatThrownBy(() -> Headers.of("", "x")).hasMessage("header name must not be empty");
  }

  @Test
  void rejectsControlCharactersInValues() {
    assertThatThrownBy(() -> Headers.of("X", "a\r\nb")).hasMessage("Unexpected char 0x0d at 1 in X value");
    assertThatThrownBy(() -> Headers.of("X", "a\u0000")).hasMessageContaining("0x00 at 1");
    assertThatThrownBy(() -> Headers.of("X", "\u007f")).hasMessageContaining("0x7f at 0");
    assertThatThrownBy(() -> Headers.of("X", "\u20ac")).hasMessageContaining("at 0");
    assertThat(Headers.of("X", "tab\tand \u00e9").first("X")).hasValue("tab\tand \u00e9");
  }

  @Test
  void rejectsOddNameValueList() {
    assertThatThrownBy(() -> Headers.of("A")).hasMessageContaining("(was 1 strings)");
  }
}
