package dev.ferry.proxy.testkit;

import java.util.List;
import java.util.Objects;
import java.util.function.UnaryOperator;
import org.assertj.core.api.AbstractAssert;

/**
 * AssertJ assertions on a {@link Recording}. Conditions are written as an
 * {@link ExchangeMatcher}: {@code hasExchange(e -> e.method("POST").path("/orders"))}.
 */
public final class RecordingAssert extends AbstractAssert<RecordingAssert, Recording> {

  RecordingAssert(Recording actual) {
    super(actual, RecordingAssert.class);
  }

  /** Verifies that at least one exchange matches. */
  public RecordingAssert hasExchange(UnaryOperator<ExchangeMatcher> matcher) {
    isNotNull();
    ExchangeMatcher m = build(matcher);
    if (actual.exchanges(m).isEmpty()) {
      failWithMessage("Expected an exchange with %s but %s", m, describe());
    }
    return this;
  }

  /** Verifies that no exchange matches. */
  public RecordingAssert hasNoExchange(UnaryOperator<ExchangeMatcher> matcher) {
    isNotNull();
    ExchangeMatcher m = build(matcher);
    List<RecordedExchange> found = actual.exchanges(m);
    if (!found.isEmpty()) {
      failWithMessage("Expected no exchange with %s but found %d; %s", m, found.size(), describe());
    }
    return this;
  }

  /** Verifies that no exchange went to this host. */
  public RecordingAssert hasNoExchangeTo(String host) {
    Objects.requireNonNull(host, "host");
    return hasNoExchange(e -> e.host(host));
  }

  /** Verifies how many exchanges were recorded. */
  public RecordingAssert hasExchangeCount(int count) {
    isNotNull();
    int size = actual.size();
    if (size != count) {
      failWithMessage("Expected %d exchanges but %s", count, describe());
    }
    return this;
  }

  /** Verifies how many exchanges match. */
  public RecordingAssert hasExchangeCount(int count, UnaryOperator<ExchangeMatcher> matcher) {
    isNotNull();
    ExchangeMatcher m = build(matcher);
    int found = actual.exchanges(m).size();
    if (found != count) {
      failWithMessage("Expected %d exchanges with %s but found %d; %s", count, m, found,
          describe());
    }
    return this;
  }

  /** Verifies that every exchange matches. */
  public RecordingAssert allExchangesMatch(UnaryOperator<ExchangeMatcher> matcher) {
    isNotNull();
    ExchangeMatcher m = build(matcher);
    List<RecordedExchange> others = actual.exchanges(m.negate());
    if (!others.isEmpty()) {
      failWithMessage("Expected every exchange to have %s but %d did not; %s", m, others.size(),
          describe());
    }
    return this;
  }

  /**
   * Verifies that an exchange matches and returns assertions on the first that does.
   */
  public ExchangeAssert exchange(UnaryOperator<ExchangeMatcher> matcher) {
    hasExchange(matcher);
    return new ExchangeAssert(actual.exchanges(build(matcher)).get(0));
  }

  private static ExchangeMatcher build(UnaryOperator<ExchangeMatcher> matcher) {
    return Objects.requireNonNull(matcher.apply(ExchangeMatcher.any()), "matcher returned null");
  }

  private String describe() {
    return Recording.describe(actual.exchanges());
  }
}
