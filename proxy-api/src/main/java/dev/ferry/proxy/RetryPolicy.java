package dev.ferry.proxy;

import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * When a reverse proxy sends a request again, to another endpoint of the pool when there is one.
 * Immutable: each option returns a new value.
 *
 * <p>Retried: a connect failure or connect timeout, whatever the method (the request never left:
 * each attempt may take up to the connect timeout); a reset or end of stream before any response
 * byte, and the statuses named in {@link #onStatuses} (typically 502, 503, 504), only for
 * idempotent methods (RFC 9110 §9.2.2) unless {@link #nonIdempotent(boolean)}; and only while
 * the request body can be sent again (empty, none of it sent yet, as after a connect failure, or
 * no more of it sent than the proxy's {@code retryBufferBytes} keeps a copy of). Never after
 * response bytes reached the client; never on a response timeout, since the upstream may still be
 * working on the request. Waits between attempts back off exponentially with full jitter. A 503's
 * {@code Retry-After} speaks for the endpoint that sent it: a retry to another endpoint does not
 * wait for it, and one to the same endpoint (the pool has no other left) waits for it up to
 * {@link #retryAfterCap}. A retry budget keeps retries to at
 * most {@link #budgetPercent} of the requests in flight to the pool (at least 3 at once), so
 * that retries cannot multiply an outage.
 *
 * <pre>{@code
 * Route.to(api).retry(RetryPolicy.retries(2).onStatuses(502, 503, 504))
 * }</pre>
 */
public final class RetryPolicy {
  private static final RetryPolicy NONE = new RetryPolicy(0, Set.of(), false,
      Duration.ofMillis(25), Duration.ofMillis(250), Duration.ofSeconds(1), 20);

  private final int retries;
  private final Set<Integer> statuses;
  private final boolean nonIdempotent;
  private final Duration baseBackoff;
  private final Duration maxBackoff;
  private final Duration retryAfterCap;
  private final int budgetPercent;

  private RetryPolicy(int retries, Set<Integer> statuses, boolean nonIdempotent,
      Duration baseBackoff, Duration maxBackoff, Duration retryAfterCap, int budgetPercent) {
    this.retries = retries;
    this.statuses = Set.copyOf(statuses);
    this.nonIdempotent = nonIdempotent;
    this.baseBackoff = baseBackoff;
    this.maxBackoff = maxBackoff;
    this.retryAfterCap = retryAfterCap;
    this.budgetPercent = budgetPercent;
  }

  /** No retries. */
  public static RetryPolicy none() {
    return NONE;
  }

  /**
   * Up to {@code retries} more attempts after the first, on connect failures and resets; the
   * default policy of a route is {@code retries(1)}.
   *
   * @throws IllegalArgumentException unless between 0 and 10
   */
  public static RetryPolicy retries(int retries) {
    return NONE.with(Checks.range("retries", retries, 0, 10), NONE.statuses, false);
  }

  /**
   * Also retries these response statuses (the response is discarded, never sent).
   *
   * @throws IllegalArgumentException unless each is between 500 and 599
   */
  public RetryPolicy onStatuses(int... statuses) {
    Set<Integer> set = new TreeSet<>();
    for (int status : statuses) {
      set.add(Checks.range("retry status", status, 500, 599));
    }
    return with(retries, set, nonIdempotent);
  }

  /**
   * Whether non-idempotent methods (POST, PATCH) are retried too after a reset or a status;
   * default false. A request that could not connect is retried whatever its method.
   */
  public RetryPolicy nonIdempotent(boolean allowed) {
    return with(retries, statuses, allowed);
  }

  /**
   * The backoff between attempts: a random wait up to {@code base * 2^(attempt-1)}, capped at
   * {@code max}; default 25 ms and 250 ms.
   *
   * @throws IllegalArgumentException unless {@code 0 < base <= max}
   */
  public RetryPolicy backoff(Duration base, Duration max) {
    Objects.requireNonNull(base, "base");
    Objects.requireNonNull(max, "max");
    if (base.isNegative() || base.isZero() || max.compareTo(base) < 0) {
      throw new IllegalArgumentException("backoff needs 0 < base <= max (was " + base + ", " + max + ")");
    }
    return new RetryPolicy(retries, statuses, nonIdempotent, base, max, retryAfterCap, budgetPercent);
  }

  /**
   * The longest {@code Retry-After} of a 503 that is waited for before retrying the endpoint that
   * sent it; default 1 s. A longer one is not retried there: the 503 goes to the client unless
   * another endpoint of the pool is left to try, which the retry goes to without waiting.
   *
   * @throws IllegalArgumentException if negative
   */
  public RetryPolicy retryAfterCap(Duration cap) {
    Objects.requireNonNull(cap, "cap");
    if (cap.isNegative()) {
      throw new IllegalArgumentException("retryAfterCap must not be negative (was " + cap + ")");
    }
    return new RetryPolicy(retries, statuses, nonIdempotent, baseBackoff, maxBackoff, cap, budgetPercent);
  }

  /**
   * Retries in flight to a pool may be at most this percentage of its requests in flight (and
   * at least 3); default 20.
   *
   * @throws IllegalArgumentException unless between 0 and 100
   */
  public RetryPolicy budgetPercent(int percent) {
    return new RetryPolicy(retries, statuses, nonIdempotent, baseBackoff, maxBackoff, retryAfterCap,
        Checks.range("budgetPercent", percent, 0, 100));
  }

  /** The most attempts after the first. */
  public int retries() {
    return retries;
  }

  /** The statuses retried besides connect failures and resets. */
  public Set<Integer> statuses() {
    return statuses;
  }

  /** True if non-idempotent methods may be retried. */
  public boolean retriesNonIdempotent() {
    return nonIdempotent;
  }

  /** See {@link #backoff(Duration, Duration)}. */
  public Duration baseBackoff() {
    return baseBackoff;
  }

  /** See {@link #backoff(Duration, Duration)}. */
  public Duration maxBackoff() {
    return maxBackoff;
  }

  /** See {@link #retryAfterCap(Duration)}. */
  public Duration retryAfterCap() {
    return retryAfterCap;
  }

  /** See {@link #budgetPercent(int)}. */
  public int budgetPercent() {
    return budgetPercent;
  }

  private RetryPolicy with(int retries, Set<Integer> statuses, boolean nonIdempotent) {
    return new RetryPolicy(retries, statuses, nonIdempotent, baseBackoff, maxBackoff, retryAfterCap,
        budgetPercent);
  }


  @Override
  public boolean equals(Object other) {
    if (!(other instanceof RetryPolicy)) {
      return false;
    }
    RetryPolicy that = (RetryPolicy) other;
    return retries == that.retries && statuses.equals(that.statuses)
        && nonIdempotent == that.nonIdempotent && baseBackoff.equals(that.baseBackoff)
        && maxBackoff.equals(that.maxBackoff) && retryAfterCap.equals(that.retryAfterCap)
        && budgetPercent == that.budgetPercent;
  }

  @Override
  public int hashCode() {
    return Objects.hash(retries, statuses, nonIdempotent, baseBackoff, maxBackoff, retryAfterCap, budgetPercent);
  }

  @Override
  public String toString() {
    return "retries(" + retries + (statuses.isEmpty() ? "" : " on " + new TreeSet<>(statuses))
        + (nonIdempotent ? ", non-idempotent" : "") + ")";
  }
}
