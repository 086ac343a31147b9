package dev.ferry.proxy.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.Headers;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import org.junit.jupiter.api.Test;

class RecordedBodyTest {
  private static final String TEXT = "the quick brown fox ".repeat(50);

  @Test
  void decodesZlibAndRawDeflate() throws Exception {
    for (boolean nowrap : new boolean[] {false, true}) {
      byte[] raw = deflate(TEXT, nowrap);
      RecordedBody body = RecordedBody.of(raw, raw.length, Headers.of("Content-Encoding", "deflate"));
      assertThat(body.text()).as("nowrap=" + nowrap).isEqualTo(TEXT);
      assertThat(body.bytes()).isEqualTo(raw);
    }
  }

  @Test
  void decodesATruncatedGzipBodyAsFarAsItGoes() throws Exception {
    byte[] gzip = RecordingTest.gzip(TEXT);
    byte[] cut = Arrays.copyOf(gzip, gzip.length / 2);
    RecordedBody body = RecordedBody.of(cut, gzip.length, Headers.of("Content-Encoding", "gzip"));
    assertThat(body.truncated()).isTrue();
    assertThat(TEXT).startsWith(body.text());
  }

  /**
   * Content-Encoding on two lines is one list (RFC 9110 §5.3): gzip twice is stacked, not one
   * gzip, and identity or an empty value is no coding (probe v25: only the first line was read).
   */
  @Test
  void readsEveryContentEncodingLine() throws Exception {
    byte[] twice = RecordingTest.gzip(RecordingTest.gzip(TEXT));
    RecordedBody stacked = RecordedBody.of(twice, twice.length,
        Headers.builder().add("Content-Encoding", "gzip").add("Content-Encoding", "gzip").build());
    assertThat(stacked.contentEncoding()).hasValue("gzip, gzip");
    assertThat(stacked.isUndecodable()).isTrue();
    byte[] once = RecordingTest.gzip(TEXT);
    RecordedBody identityFirst = RecordedBody.of(once, once.length,
        Headers.builder().add("Content-Encoding", "identity").add("Content-Encoding", "gzip").build());
    assertThat(identityFirst.text()).isEqualTo(TEXT);
    byte[] plain = TEXT.getBytes(StandardCharsets.UTF_8);
    RecordedBody empty = RecordedBody.of(plain, plain.length, Headers.of("Content-Encoding", ""));
    assertThat(empty.isUndecodable()).isFalse();
    assertThat(empty.text()).isEqualTo(TEXT);
  }

  @Test
  void leavesUnknownEncodingsAsTheyAre() {
    byte[] raw = {1, 2, 3};
    RecordedBody body = RecordedBody.of(raw, 3, Headers.of("Content-Encoding", "br"));
    assertThat(body.decoded()).isEqualTo(raw);
    assertThat(body.isEncoded()).isFalse();
  }

  @Test
  void readsTextInTheDeclaredCharset() {
    byte[] latin = "café".getBytes(StandardCharsets.ISO_8859_1);
    RecordedBody body = RecordedBody.of(latin, latin.length,
        Headers.of("Content-Type", "text/plain; charset=ISO-8859-1"));
    assertThat(body.text()).isEqualTo("café");
  }

  private static byte[] deflate(String text, boolean nowrap) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    Deflater deflater = new Deflater(Deflater.DEFAULT_COMPRESSION, nowrap);
    try (DeflaterOutputStream out = new DeflaterOutputStream(bytes, deflater)) {
      out.write(text.getBytes(StandardCharsets.UTF_8));
    }
    deflater.end();
    return bytes.toByteArray();
  }
}
