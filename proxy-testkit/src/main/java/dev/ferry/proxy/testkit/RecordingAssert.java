package dev.ferry.proxy.testkit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.assertj.core.api.AbstractAssert;

/**
 * AssertJ assertions on a {@link Recording}. Conditions are written as an
 * {@link ExchangeMatcher}: {@code hasExchange(e -> e.method("POST").path("/orders"))}.
 *
 * <p>An exchange is recorded just after the client got its response, so assert on what a client
 * just did with {@link #eventually()}, which waits (5 seconds by default) instead of failing at
 * once. Without it a check sees only what was recorded when it ran: right after a call returned,
 * its exchange may still be in progress, so {@code hasExchange} can fail (the message then says
 * how many exchanges were in progress) and {@code hasNoExchange} can pass over it:
 *
 * <pre>{@code
 * assertThat(proxy.recording()).eventually()
 *     .hasExchange(e -> e.method("POST").path("/orders"))
 *     .hasNoExchangeTo("tracking.example");
 * }</pre>
 *
 * <p>When waiting, positive assertions ({@code hasExchange}, {@code exchange}) pass as soon as
 * they hold; the others ({@code hasNoExchange}, {@code hasExchangeCount},
 * {@code allExchangesMatch}) first wait until the proxy has no exchange in progress, then check.
 *
 * <p>A recording past its bounds drops its oldest exchanges ({@link Recording#dropped()}). The
 * checks a dropped exchange could have decided otherwise ({@code hasNoExchange},
 * {@code hasNoExchangeTo}, {@code allExchangesMatch}, {@code hasExchangeCount}) then fail, saying
 * how many were dropped and which bound to raise, as body checks a truncated body cannot decide
 * do; {@code hasExchange} still passes when a kept exchange matches.
 *
 * <p>Positive assertions pass over an exchange whose body a {@code bodyContains(...)} condition
 * cannot judge (truncated, or in an encoding the recorder could not decode) while another is
 * known to match, and keep waiting for one; they fail with that reason only when none matches.
 */
public final class RecordingAssert extends AbstractAssert<RecordingAssert, Recording> {
  /** How long {@link #eventually()} waits. */
  public static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(5);

  private final Duration deadline;

  RecordingAssert(Recording actual) {
    this(actual, Duration.ZERO);
  }

  private RecordingAssert(Recording actual, Duration deadline) {
    super(actual, RecordingAssert.class);
    this.deadline = deadline;
  }

  /**
   * Returns assertions that wait up to {@link #DEFAULT_DEADLINE} (5 seconds) for the recording to
   * satisfy them, re-checking each time an exchange is recorded; they never poll or sleep.
   */
  public RecordingAssert eventually() {
    return eventually(DEFAULT_DEADLINE);
  }

  /**
   * Returns assertions that wait up to {@code deadline} for the recording to satisfy them.
   *
   * @throws IllegalArgumentException if the deadline is negative
   */
  public RecordingAssert eventually(Duration deadline) {
    Objects.requireNonNull(deadline, "deadline");
    if (deadline.isNegative()) {
      throw new IllegalArgumentException("deadline must not be negative (was " + deadline + ")");
    }
    return new RecordingAssert(actual, deadline);
  }

  /** Verifies that at least one exchange matches. */
  public RecordingAssert hasExchange(UnaryOperator<ExchangeMatcher> matcher) {
    isNotNull();
    ExchangeMatcher m = ExchangeMatcher.build(matcher);
    if (!waitFor(() -> actual.find(m).any())) {
      Recording.Found found = actual.find(m);
      if (found.undecided() != null) {
        failWithMessage("Expected an exchange with %s%s but none is known to have it: %s", m,
            within(), found.undecided().getMessage());
      }
      failWithMessage("Expected an exchange with %s%s but %s", m, within(), describe());
    }
    return this;
  }

  /**
   * Verifies that no exchange matches.
   *
   * <p>Fails while exchanges were dropped ({@link Recording#dropped()}): one of them could match.
   */
  public RecordingAssert hasNoExchange(UnaryOperator<ExchangeMatcher> matcher) {
    isNotNull();
    ExchangeMatcher m = ExchangeMatcher.build(matcher);
    settle();
    List<RecordedExchange> found = actual.select(m);
    if (!found.isEmpty()) {
      failWithMessage("Expected no exchange with %s but found %d; %s", m, found.size(), describe());
    }
    refuseIfDropped("no exchange has " + m);
    return this;
  }

  /**
   * Verifies that no exchange went to this host. Fails while exchanges were dropped, as
   * {@link #hasNoExchange} does.
   */
  public RecordingAssert hasNoExchangeTo(String host) {
    Objects.requireNonNull(host, "host");
    return hasNoExchange(e -> e.host(host));
  }

  /**
   * Verifies how many exchanges were recorded. A CONNECT is an exchange of its own: with {@code
   * interceptHttps()} each HTTPS session adds one before its requests, and without it each tunnel
   * is one. To count requests only, use {@code hasExchangeCount(n, e -> e.method("GET"))} or
   * another matcher.
   *
   * <p>Fails while exchanges were dropped ({@link Recording#dropped()}): they were made, but the
   * recording no longer holds them.
   */
  public RecordingAssert hasExchangeCount(int count) {
    isNotNull();
    waitFor(() -> actual.size() + actual.dropped() >= count);
    settle();
    if (actual.size() != count) {
      failWithMessage("Expected %d exchanges%s but %s%s", count, within(), describe(),
          actual.size() > count && actual.sharesItsProxy() ? Recording.SHARED_PROXY_HINT : "");
    }
    refuseIfDropped(count + " exchanges were made");
    return this;
  }

  /**
   * Verifies how many exchanges match. Fails while exchanges were dropped, as
   * {@link #hasExchangeCount(int)} does: a dropped one could match.
   */
  public RecordingAssert hasExchangeCount(int count, UnaryOperator<ExchangeMatcher> matcher) {
    isNotNull();
    ExchangeMatcher m = ExchangeMatcher.build(matcher);
    waitFor(() -> actual.select(m).size() >= count);
    settle();
    int found = actual.select(m).size();
    if (found != count) {
      failWithMessage("Expected %d exchanges with %s%s but found %d; %s", count, m, within(),
          found, describe());
    }
    refuseIfDropped(count + " exchanges have " + m);
    return this;
  }

  /**
   * Verifies that exchanges matching each matcher were made in this order: one matching the
   * first, a later one matching the second, and so on (others may come between). Exchanges are
   * ordered by when they started on the proxy; imported ones, by the order they were recorded in.
   *
   * <pre>{@code
   * assertThat(recording).eventually().hasExchangesInOrder(
   *     e -> e.method("POST").path("/login"), e -> e.method("GET").path("/account"));
   * }</pre>
   *
   * @throws IllegalArgumentException without a matcher
   */
  @SafeVarargs
  public final RecordingAssert hasExchangesInOrder(UnaryOperator<ExchangeMatcher>... matchers) {
    isNotNull();
    if (matchers.length == 0) {
      throw new IllegalArgumentException("hasExchangesInOrder needs at least one matcher");
    }
    List<ExchangeMatcher> inOrder = Arrays.stream(matchers).map(ExchangeMatcher::build).toList();
    if (!waitFor(() -> firstOutOfOrder(inOrder) < 0)) {
      int missing = firstOutOfOrder(inOrder);
      failWithMessage("Expected exchanges in this order: %s%s but %s; %s",
          inOrder.stream().map(m -> "[" + m + "]").collect(Collectors.joining(", ")), within(),
          missing == 0 ? "none has " + inOrder.get(0)
              : "none with " + inOrder.get(missing) + " came after one with " + inOrder.get(missing - 1),
          describe());
    }
    return this;
  }

  /** The index of the first matcher no exchange answers in turn; -1 when all do. */
  private int firstOutOfOrder(List<ExchangeMatcher> inOrder) {
    List<RecordedExchange> started = new ArrayList<>(actual.exchanges());
    started.sort(Comparator.comparingLong(RecordedExchange::order));
    int next = 0;
    for (RecordedExchange exchange : started) {
      if (next < inOrder.size() && inOrder.get(next).test(exchange)) {
        next++;
      }
    }
    return next == inOrder.size() ? -1 : next;
  }

  /**
   * Verifies that every exchange matches. Fails while exchanges were dropped
   * ({@link Recording#dropped()}): one of them could fail to match.
   */
  public RecordingAssert allExchangesMatch(UnaryOperator<ExchangeMatcher> matcher) {
    isNotNull();
    ExchangeMatcher m = ExchangeMatcher.build(matcher);
    settle();
    List<RecordedExchange> others = actual.select(m.negate());
    if (!others.isEmpty()) {
      failWithMessage("Expected every exchange to have %s but %d did not; %s", m, others.size(),
          describe());
    }
    refuseIfDropped("every exchange has " + m);
    return this;
  }

  /**
   * Fails a check that the kept exchanges pass but a dropped one could have failed, as a body
   * check a truncated body cannot decide fails: passing it would hide traffic (probe t25).
   */
  private void refuseIfDropped(String claim) {
    actual.droppedReason().ifPresent(reason -> failWithMessage(
        "Cannot tell whether %s: %s, and a dropped exchange could change the answer; %s", claim,
        reason, describe()));
  }

  /** Verifies that an exchange matches and returns assertions on the first that does. */
  public ExchangeAssert exchange(UnaryOperator<ExchangeMatcher> matcher) {
    hasExchange(matcher);
    return new ExchangeAssert(actual.find(ExchangeMatcher.build(matcher)).first().orElseThrow());
  }

  private boolean waitFor(BooleanSupplier condition) {
    return deadline.isZero() ? condition.getAsBoolean() : actual.await(condition, deadline);
  }

  /** When waiting, lets exchanges in progress complete before a check that more could break. */
  private void settle() {
    if (!deadline.isZero()) {
      actual.awaitQuiet(deadline);
    }
  }

  private String within() {
    return deadline.isZero() ? "" : " within " + deadline.toMillis() + " ms";
  }

  /**
   * The recording, and the exchanges still in progress: a check that did not wait, right after
   * a client returned, failed on "no exchanges were recorded" with no hint that its exchange was
   * being recorded (probe testkit2 F1).
   */
  private String describe() {
    int inProgress = actual.inProgress();
    if (inProgress == 0) {
      return actual.toString();
    }
    return actual + (inProgress == 1 ? "; 1 exchange was" : "; " + inProgress + " exchanges were")
        + " still in progress" + (deadline.isZero() ? " (use eventually() to wait for it)" : "");
  }
}
