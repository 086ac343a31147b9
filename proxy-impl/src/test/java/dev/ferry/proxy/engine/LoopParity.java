package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Checks that an event loop answers as the threads do, for tests of what the loops serve. */
final class LoopParity {
  private LoopParity() {}

  /**
   * Sends each of {@code requests} on {@code onThread}, then on {@code onLoop}, and checks that the
   * two answers have the same status line, fields (but {@code Date} and the request id) and body;
   * returns the loop's.
   */
  static List<RawClient.RawResponse> sameAnswers(RawClient onLoop, RawClient onThread, String... requests)
      throws IOException {
    List<RawClient.RawResponse> answers = new ArrayList<>();
    for (String request : requests) {
      boolean head = request.startsWith("HEAD ");
      RawClient.RawResponse expected = onThread.send(request).readResponse(head);
      RawClient.RawResponse answered = onLoop.send(request).readResponse(head);
      assertThat(answered.statusLine()).as(request).isEqualTo(expected.statusLine());
      assertThat(withoutDateAndId(answered.headers())).as(request).isEqualTo(withoutDateAndId(expected.headers()));
      assertThat(answered.body()).as(request).isEqualTo(expected.body());
      answers.add(answered);
    }
    return answers;
  }

  private static Map<String, String> withoutDateAndId(Map<String, String> headers) {
    Map<String, String> kept = new TreeMap<>(headers);
    kept.remove("date");
    kept.remove("x-request-id");
    return kept;
  }
}
