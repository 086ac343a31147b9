package dev.ferry.proxy.engine.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * RFC 8941 Dictionaries, with the examples of its §3.2, §3.3 and §4.2 and cases from the
 * httpwg structured-field-tests suite (dictionary, number, string, token, boolean, param-dict).
 */
class StructuredFieldsTest {
  private static Map<String, StructuredFields.Item> parse(String... lines) {
    return StructuredFields.parseDictionary(List.of(lines)).orElseThrow(() ->
        new AssertionError("expected to parse: " + List.of(lines)));
  }

  private static boolean fails(String... lines) {
    return StructuredFields.parseDictionary(List.of(lines)).isEmpty();
  }

  @Test
  void parsesRfcDictionaryExamples() {
    Map<String, StructuredFields.Item> dict = parse("en=\"Applepie\", da=:w4ZibGV0w6ZydGU=:");
    assertThat(dict.get("en").value()).isEqualTo("Applepie");
    assertThat((byte[]) dict.get("da").value()).asString(java.nio.charset.StandardCharsets.ISO_8859_1)
        .isEqualTo("\u00c3\u0086blet\u00c3\u00a6rte");
    Map<String, StructuredFields.Item> booleans = parse("a=?0, b, c; foo=bar");
    assertThat(booleans.get("a").value()).isEqualTo(false);
    assertThat(booleans.get("b").value()).isEqualTo(true);
    assertThat(booleans.get("c").parameters()).containsEntry("foo", new StructuredFields.Token("bar"));
    Map<String, StructuredFields.Item> lists = parse("rating=1.5, feelings=(joy sadness)");
    assertThat(lists.get("rating").value()).isEqualTo(new BigDecimal("1.5"));
    assertThat((List<?>) lists.get("feelings").value()).hasSize(2);
    assertThat(parse("a=(1 2), b=3, c=4;aa=bb, d=(5 6);valid").keySet()).containsExactly("a", "b", "c", "d");
  }

  @Test
  void combinesFieldLinesAndKeepsLastDuplicate() {
    Map<String, StructuredFields.Item> dict = parse("a=1, b=2", "a=3");
    assertThat(dict.get("a").value()).isEqualTo(3L);
    assertThat(dict.keySet()).containsExactly("a", "b");
  }

  @Test
  void acceptsOptionalWhitespaceOnlyAroundCommas() {
    assertThat(parse("  a=1 ,\tb=2  ").keySet()).containsExactly("a", "b");
    assertThat(fails("a =1")).isTrue();
    assertThat(fails("a= 1")).isTrue();
    assertThat(fails("a=1;  b=2")).as("spaces after ; are allowed").isFalse();
  }

  @Test
  void rejectsMalformedDictionaries() {
    assertThat(fails("a=1,")).as("trailing comma").isTrue();
    assertThat(fails(",a=1")).as("leading comma").isTrue();
    assertThat(fails("a=1,,b=2")).as("empty member").isTrue();
    assertThat(fails("A=1")).as("upper-case key").isTrue();
    assertThat(fails("1a=1")).as("key starting with a digit").isTrue();
    assertThat(fails("a=1 b=2")).as("missing comma").isTrue();
    assertThat(fails("max-age=10000, &&&&&")).isTrue();
    assertThat(fails("a=&")).isTrue();
  }

  @Test
  void parsesIntegersAndDecimalsWithinTheirLimits() {
    assertThat(parse("a=-42").get("a").value()).isEqualTo(-42L);
    assertThat(parse("a=999999999999999").get("a").value()).isEqualTo(999_999_999_999_999L);
    assertThat(parse("a=-999999999999999").get("a").value()).isEqualTo(-999_999_999_999_999L);
    assertThat(fails("a=1000000000000000")).as("16-digit integer").isTrue();
    assertThat(parse("a=123456789012.123").get("a").value()).isEqualTo(new BigDecimal("123456789012.123"));
    assertThat(fails("a=1234567890123.0")).as("13-digit integer part").isTrue();
    assertThat(fails("a=1.1234")).as("4 fraction digits").isTrue();
    assertThat(fails("a=1.")).as("trailing dot").isTrue();
    assertThat(fails("a=-")).isTrue();
    assertThat(fails("a=1.2.3")).isTrue();
  }

  @Test
  void parsesStringsStrictly() {
    assertThat(parse("a=\"with \\\"quote\\\" and \\\\\"").get("a").value()).isEqualTo("with \"quote\" and \\");
    assertThat(parse("a=\"\"").get("a").value()).isEqualTo("");
    assertThat(fails("a=\"bad \\n escape\"")).isTrue();
    assertThat(fails("a=\"unterminated")).isTrue();
    assertThat(fails("a=\"tab\there\"")).isTrue();
  }

  @Test
  void parsesTokensBooleansAndByteSequences() {
    assertThat(parse("a=*foo:/bar!").get("a").value()).isEqualTo(new StructuredFields.Token("*foo:/bar!"));
    assertThat(parse("a=?1").get("a").value()).isEqualTo(true);
    assertThat(fails("a=?2")).isTrue();
    assertThat(fails("a=?")).isTrue();
    assertThat((byte[]) parse("a=:aGVsbG8=:").get("a").value()).containsExactly("hello".getBytes());
    assertThat(fails("a=:aGVsbG8=")).as("unterminated").isTrue();
    assertThat(fails("a=:aGVs*G8=:")).as("not base64").isTrue();
  }

  @Test
  void parsesParametersAndInnerLists() {
    Map<String, StructuredFields.Item> dict = parse("a=(\"x\" y;p=1);q=?0, b;c=2");
    StructuredFields.Item inner = dict.get("a");
    assertThat(inner.parameters()).containsEntry("q", false);
    List<?> items = (List<?>) inner.value();
    assertThat(((StructuredFields.Item) items.get(1)).parameters()).containsEntry("p", 1L);
    assertThat(dict.get("b").parameters()).containsEntry("c", 2L);
    assertThat(parse("a=()").get("a").value()).isEqualTo(List.of());
    assertThat(fails("a=(1")).isTrue();
    assertThat(fails("a=(1,2)")).isTrue();
    assertThat(fails("a;P=1")).as("upper-case parameter key").isTrue();
  }

  @Test
  void translatesTargetedDirectivesIntoCacheControl() {
    assertThat(TargetedCacheControl.translate(List.of("max-age=60, no-store=?0, must-revalidate")))
        .hasValue("max-age=60, must-revalidate");
    assertThat(TargetedCacheControl.translate(List.of("max-age=\"60\""))).isEmpty();
    assertThat(TargetedCacheControl.translate(List.of("max-age=-1"))).isEmpty();
    assertThat(TargetedCacheControl.translate(List.of("max-age=1.5"))).isEmpty();
    assertThat(TargetedCacheControl.translate(List.of(""))).isEmpty();
    assertThat(TargetedCacheControl.translate(List.of("private=\"set-cookie\""))).hasValue("private=\"set-cookie\"");
    assertThat(TargetedCacheControl.translate(List.of("x-unknown=(1 2)"))).isEqualTo(Optional.of(""));
  }
}
