package dev.ferry.proxy.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import dev.ferry.proxy.Headers;
import dev.ferry.proxy.Request;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13 §2: export streams entry by entry, and reading and writing HAR report errors the same
 * way: an {@link UncheckedIOException} whose message says what could not be read or written.
 */
class HarErrorsTest {

  @Test
  void streamsTheExportAndReportsAWriteFailureLikeAReadFailure() {
    Recording recording = Recording.of(exchanges(8, 256 * 1024));
    List<Integer> writes = new ArrayList<>();
    Writer failing = new Writer() {
      private long written;

      @Override
      public void write(char[] chars, int offset, int length) throws IOException {
        writes.add(length);
        written += length;
        if (written > 512 * 1024) {
          throw new IOException("disk full");
        }
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };

    assertThatThrownBy(() -> recording.writeHar(failing))
        .isInstanceOf(UncheckedIOException.class)
        .hasMessage("could not write HAR: disk full");
    // The document (about 2.8 MB of base64) was never built whole: output went out in pieces
    // and stopped at the failure.
    assertThat(writes).hasSizeGreaterThan(10);
    assertThat(writes.stream().mapToInt(Integer::intValue).max().orElseThrow())
        .isLessThan(64 * 1024);
  }

  @Test
  void reportsFileErrorsTheSameWayForReadAndWrite(@TempDir Path dir) throws Exception {
    Path directory = Files.createDirectory(dir.resolve("a-directory"));
    assertThatThrownBy(() -> Recording.create().writeHar(directory))
        .isInstanceOf(UncheckedIOException.class)
        .hasMessageStartingWith("could not write HAR file " + directory + ": ");
    Path missing = dir.resolve("missing.har");
    assertThatThrownBy(() -> Recording.fromHar(missing))
        .isInstanceOf(UncheckedIOException.class)
        .hasMessage("could not read HAR file " + missing + ": there is no file at " + missing.toAbsolutePath()
            + " (to record it on the first run, use recordIfMissing)");
    assertThatThrownBy(() -> Recording.fromHar(new StringReader("{\"log\":{}}")))
        .isInstanceOf(UncheckedIOException.class)
        .hasMessage("could not read HAR: not a HAR log: no log.entries array");
  }

  /**
   * A reason phrase with CR LF was accepted, and replay then failed every request for it with an
   * internal 500 that did not say which entry was bad (probe t24): refused at import, as a header
   * value is.
   */
  @Test
  void refusesAReasonPhraseThatAResponseCannotCarry() {
    for (String reason : new String[] {"OK\\r\\nX-Evil: 1", "OK\\nX", "OK\\u0000", "\\u20ac"}) {
      String har = "{\"log\":{\"version\":\"1.2\",\"entries\":[{\"startedDateTime\":\"2024-05-01T10:00:00.000Z\","
          + "\"request\":{\"method\":\"GET\",\"url\":\"http://h.test/a\",\"headers\":[]},"
          + "\"response\":{\"status\":200,\"statusText\":\"" + reason + "\",\"headers\":[],"
          + "\"content\":{\"size\":0,\"text\":\"\"}}}]}}";
      assertThatThrownBy(() -> Recording.fromHar(new StringReader(har))).as(reason)
          .isInstanceOf(UncheckedIOException.class)
          .hasMessageStartingWith("could not read HAR: HAR entry 0 (http://h.test/a) is not valid: Unexpected char")
          .hasMessageEndingWith("in reason phrase");
    }
    String fine = "{\"log\":{\"entries\":[{\"request\":{\"method\":\"GET\",\"url\":\"http://h.test/a\"},"
        + "\"response\":{\"status\":200,\"statusText\":\"Tout va bien \\u00e9\\t!\"}}]}}";
    assertThat(Recording.fromHar(new StringReader(fine)).exchanges().get(0).response().reason())
        .isEqualTo("Tout va bien \u00e9\t!");
  }

  private static List<RecordedExchange> exchanges(int count, int bodyBytes) {
    List<RecordedExchange> list = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      RecordedExchange.Builder b = RecordedExchange.builder();
      b.startTime = Instant.EPOCH;
      b.request = RecordedRequest.of(Request.builder().url("http://h.test/" + i).build(),
          RecordedBody.empty());
      byte[] body = new byte[bodyBytes];
      body[0] = 1;
      b.response = RecordedResponse.of(200, "OK", Headers.empty(),
          RecordedBody.of(body, body.length, Headers.empty()));
      list.add(b.build());
    }
    return list;
  }
}
