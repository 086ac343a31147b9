package dev.ferry.proxy.testkit;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Judges a test's exchanges for {@link FerryProxyExtension#failOnUnexpectedTraffic} as each is
 * recorded, so that an exchange the recording later drops to stay within its bounds still counts
 * (probe t25: a request made before the bounds were reached used to be forgiven). It keeps a line
 * per unexpected exchange rather than the exchange and its bodies, so the verdict stays within
 * the recording's memory bounds. Called under the recording's lock.
 */
final class TrafficJudge {
  private final Predicate<RecordedExchange> unexpected;
  private final String expected;
  private final List<String> listed = new ArrayList<>();
  private long count;
  private long unmatched;

  /**
   * @param unexpected true for an exchange the test should not have made
   * @param expected what the test may make, for the message
   */
  TrafficJudge(Predicate<RecordedExchange> unexpected, String expected) {
    this.unexpected = unexpected;
    this.expected = expected;
  }

  void judge(RecordedExchange exchange) {
    String refused;
    try {
      refused = unexpected.test(exchange) ? "" : null;
    } catch (AssertionError | RuntimeException e) {
      // A condition the recorded exchange cannot decide (a truncated body) is no acceptance.
      refused = " (could not be judged: " + e.getMessage() + ")";
    }
    if (refused == null) {
      return;
    }
    count++;
    if (exchange.unmatched()) {
      unmatched++;
    }
    // Lines kept for the failure message; the count goes on past them.
    if (listed.size() < Recording.MAX_LISTED) {
      listed.add(exchange + refused);
    }
  }

  /** Describes the unexpected exchanges; empty if there were none. */
  Optional<String> verdict() {
    if (count == 0) {
      return Optional.empty();
    }
    String why = unmatched == 0 ? "expected " + expected
        : unmatched == count ? "the replay had no recording for them"
        : "expected " + expected + "; the replay had no recording for the " + unmatched
            + " marked unmatched";
    StringBuilder text = new StringBuilder("Ferry proxy saw unexpected traffic (").append(why)
        .append("): ").append(count).append(count == 1 ? " exchange was:" : " exchanges were:");
    listed.forEach(line -> text.append("\n  ").append(line));
    if (count > listed.size()) {
      text.append("\n  ... and ").append(count - listed.size()).append(" more");
    }
    return Optional.of(text.toString());
  }
}
