package dev.ferry.proxy;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/**
 * An active health check: a {@code GET} to a path on every endpoint of a pool, at an interval,
 * on the proxy's health-check threads (one per checked endpoint, from 2 to 64 per proxy, so one
 * endpoint's slow check never delays another's), with a fixed delay between checks of an endpoint
 * (so a check that times out never piles up). The path is sent as given, without the endpoint's base
 * path. An endpoint turns unhealthy after
 * {@link #unhealthyThreshold} failed checks in a row (a status outside the expected range, a
 * connect failure, a timeout before the whole response head came, or a head a request's answer
 * would be refused for: malformed, or with conflicting framing) and healthy again after
 * {@link #healthyThreshold} good ones. The body is not read.
 * Endpoints start healthy. Immutable: each option returns a new value.
 *
 * <pre>{@code
 * HealthCheck.http("/health").interval(Duration.ofSeconds(5)).timeout(Duration.ofSeconds(1))
 * }</pre>
 */
public final class HealthCheck {
  private final String path;
  private final Duration interval;
  private final Duration timeout;
  private final int healthyThreshold;
  private final int unhealthyThreshold;
  private final int minStatus;
  private final int maxStatus;

  private HealthCheck(String path, Duration interval, Duration timeout, int healthyThreshold,
      int unhealthyThreshold, int minStatus, int maxStatus) {
    this.path = path;
    this.interval = interval;
    this.timeout = timeout;
    this.healthyThreshold = healthyThreshold;
    this.unhealthyThreshold = unhealthyThreshold;
    this.minStatus = minStatus;
    this.maxStatus = maxStatus;
  }

  /**
   * A check of {@code path} every 5 s with a 2 s timeout, thresholds 2 (healthy) and 3
   * (unhealthy), expecting a status from 200 to 399.
   *
   * @param path the request target sent, in origin form: {@code /path} or {@code /path?query},
   *     other characters escaped ({@code %XX}); never a fragment, which no request carries
   * @throws IllegalArgumentException unless the path starts with {@code /} and holds only the
   *     characters of a request target
   */
  public static HealthCheck http(String path) {
    Objects.requireNonNull(path, "path");
    // A fragment or a character no request target holds went out as it was, and a strict
    // backend answered every check 400 (probe g24).
    String invalid = path.startsWith("/") ? Checks.unescapedCharacter(path, "?") : "no leading /";
    if (invalid != null) {
      throw new IllegalArgumentException("health check path must start with / and be a request target, "
          + "without a #fragment: it holds " + invalid + " (was " + Checks.shown(withoutQueryValues(path)) + ")");
    }
    return new HealthCheck(path, Duration.ofSeconds(5), Duration.ofSeconds(2), 2, 3, 200, 399);
  }


  /**
   * How often each endpoint is checked; default 5 s.
   *
   * @throws IllegalArgumentException unless positive and at most 365 days
   */
  public HealthCheck interval(Duration interval) {
    return new HealthCheck(path, Checks.positive("interval", interval), timeout, healthyThreshold,
        unhealthyThreshold, minStatus, maxStatus);
  }

  /**
   * How long one check may take, connect included; default 2 s.
   *
   * @throws IllegalArgumentException unless positive and at most 365 days
   */
  public HealthCheck timeout(Duration timeout) {
    return new HealthCheck(path, interval, Checks.positive("timeout", timeout), healthyThreshold,
        unhealthyThreshold, minStatus, maxStatus);
  }

  /**
   * Good checks in a row that make an unhealthy endpoint healthy; default 2.
   *
   * @throws IllegalArgumentException unless between 1 and 100
   */
  public HealthCheck healthyThreshold(int checks) {
    return new HealthCheck(path, interval, timeout, Checks.range("healthyThreshold", checks, 1, 100),
        unhealthyThreshold, minStatus, maxStatus);
  }

  /**
   * Failed checks in a row that make a healthy endpoint unhealthy; default 3.
   *
   * @throws IllegalArgumentException unless between 1 and 100
   */
  public HealthCheck unhealthyThreshold(int checks) {
    return new HealthCheck(path, interval, timeout, healthyThreshold,
        Checks.range("unhealthyThreshold", checks, 1, 100), minStatus, maxStatus);
  }

  /**
   * The statuses that count as healthy, inclusive; default 200 to 399.
   *
   * @throws IllegalArgumentException unless {@code 100 <= min <= max <= 599}
   */
  public HealthCheck expectStatus(int min, int max) {
    Checks.range("expectStatus min", min, 100, 599);
    Checks.range("expectStatus max", max, min, 599);
    return new HealthCheck(path, interval, timeout, healthyThreshold, unhealthyThreshold, min, max);
  }

  /** The path checked. */
  public String path() {
    return path;
  }

  /** See {@link #interval(Duration)}. */
  public Duration interval() {
    return interval;
  }

  /** See {@link #timeout(Duration)}. */
  public Duration timeout() {
    return timeout;
  }

  /** See {@link #healthyThreshold(int)}. */
  public int healthyThreshold() {
    return healthyThreshold;
  }

  /** See {@link #unhealthyThreshold(int)}. */
  public int unhealthyThreshold() {
    return unhealthyThreshold;
  }

  /** True if {@code status} counts as healthy. */
  public boolean expects(int status) {
    return status >= minStatus && status <= maxStatus;
  }



  @Override
  public boolean equals(Object other) {
    if (!(other instanceof HealthCheck)) {
      return false;
    }
    HealthCheck that = (HealthCheck) other;
    return path.equals(that.path) && interval.equals(that.interval) && timeout.equals(that.timeout)
        && healthyThreshold == that.healthyThreshold && unhealthyThreshold == that.unhealthyThreshold
        && minStatus == that.minStatus && maxStatus == that.maxStatus;
  }

  @Override
  public int hashCode() {
    return Objects.hash(path, interval, timeout, healthyThreshold, unhealthyThreshold, minStatus, maxStatus);
  }

  @Override
  public String toString() {
    return "healthCheck(" + withoutQueryValues(path) + " every " + interval.toMillis() + " ms)";
  }

  /**
   * The path with each query parameter's value shown as {@code ***}: this text goes to logs and
   * the CLI's banner, and a check's query may carry a token the endpoint asks for.
   */
  private static String withoutQueryValues(String path) {
    int query = path.indexOf('?');
    if (query < 0) {
      return path;
    }
    StringBuilder shown = new StringBuilder(path.substring(0, query + 1));
    String[] parameters = path.substring(query + 1).split("&", -1);
    for (int i = 0; i < parameters.length; i++) {
      int equals = parameters[i].indexOf('=');
      shown.append(i == 0 ? "" : "&")
          .append(equals < 0 ? parameters[i] : parameters[i].substring(0, equals + 1) + "***");
    }
    return shown.toString();
  }
}
