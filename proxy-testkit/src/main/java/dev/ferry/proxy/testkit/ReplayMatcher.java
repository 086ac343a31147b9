package dev.ferry.proxy.testkit;

import java.util.Arrays;
import java.util.Objects;

/**
 * Decides whether a recorded request answers an incoming one when a proxy replays. The default
 * is {@link #methodAndUrl()} for a forward proxy and {@link #methodAndTarget()} for a reverse
 * one (whose URLs name the proxy's own address, a new ephemeral port in every run); combine
 * others with {@link #and}:
 *
 * <pre>{@code
 * RecordingProxy.forward()
 *     .replay(Path.of("src/test/resources/orders.har"))
 *     .replayMatcher(ReplayMatcher.methodAndUrl().and(ReplayMatcher.header("Accept")).and(ReplayMatcher.body()))
 *     .start();
 * }</pre>
 *
 * <p>The incoming request's body is read (up to the proxy's {@code maxBodyBytes}, and a byte more
 * to know whether it is longer) before matching, so body matchers see it; when the request is
 * then forwarded, the exact bytes go on unchanged.
 */
@FunctionalInterface
public interface ReplayMatcher {

  /** Returns true if {@code recorded} may answer {@code incoming}. */
  boolean matches(RecordedRequest recorded, RecordedRequest incoming);

  /** Returns a matcher that requires both this one and {@code other}. */
  default ReplayMatcher and(ReplayMatcher other) {
    Objects.requireNonNull(other, "other");
    return (recorded, incoming) -> matches(recorded, incoming) && other.matches(recorded, incoming);
  }

  /**
   * Matches on the method and the absolute URL, both compared exactly; URLs are recorded without
   * the scheme's default port, so {@code https://host/a} matches a request to {@code host:443}.
   */
  static ReplayMatcher methodAndUrl() {
    return (recorded, incoming) -> recorded.method().equals(incoming.method())
        && recorded.url().equals(incoming.url());
  }

  /**
   * Matches on the method and the origin-form target ({@code /path?query}), both compared
   * exactly, whatever the host and port: the default of a reverse proxy, where every run's proxy
   * (and often its origin) listens on another ephemeral port.
   */
  static ReplayMatcher methodAndTarget() {
    return (recorded, incoming) -> recorded.method().equals(incoming.method())
        && recorded.target().equals(incoming.target());
  }

  /** Matches when both requests have the same values, in order, for this header field. */
  static ReplayMatcher header(String name) {
    Objects.requireNonNull(name, "name");
    return (recorded, incoming) -> recorded.headers().all(name).equals(incoming.headers().all(name));
  }

  /**
   * Matches when both request bodies are whole and have the same decoded bytes. A body longer
   * than {@code maxBodyBytes} (the recording's, or the replaying proxy's for the incoming one) is
   * kept only in part, and two bodies cannot be compared past what was kept: a
   * {@linkplain RecordedBody#truncated() truncated} body never matches, not even an equal one.
   * To match on bodies, set {@code maxBodyBytes} above the largest body, when recording and when
   * replaying.
   */
  static ReplayMatcher body() {
    return (recorded, incoming) -> !recorded.body().truncated() && !incoming.body().truncated()
        && Arrays.equals(recorded.body().decoded(), incoming.body().decoded());
  }
}
