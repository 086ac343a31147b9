package dev.ferry.proxy.testkit;

import dev.ferry.proxy.Request;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * The testkit's one way to say which exchanges you mean: a readable, immutable predicate built
 * up one condition at a time. Every method that selects exchanges takes it as a lambda that adds
 * conditions to an empty matcher, the same everywhere:
 *
 * <pre>{@code
 * recording.exchanges(e -> e.method("POST").path("/orders"));                 // look up
 * recording.awaitExchange(e -> e.path("/orders"), Duration.ofSeconds(5));     // wait
 * assertThat(recording).eventually().hasExchange(e -> e.path("/orders"));     // assert
 * proxy.inject(e -> e.pathStartsWith("/slow"), Fault.latency(Duration.ofMillis(300))); // faults
 * FerryProxyExtension.forward().failOnUnexpectedTraffic(e -> e.host("127.0.0.1"));
 * }</pre>
 *
 * <p>Its {@code toString()} reads like the conditions ({@code method=POST path=/orders}), which
 * is what failure messages show. Every condition is on the request unless its name says
 * response ({@code status}, {@code responseHeader}). Faults are chosen before the request is
 * forwarded, so they accept only conditions on the request head: a response or body condition
 * there is rejected with an {@link IllegalArgumentException}.
 */
public final class ExchangeMatcher implements Predicate<RecordedExchange> {
  private static final ExchangeMatcher ANY = new ExchangeMatcher(List.of(), List.of(), List.of());

  private final List<Predicate<RecordedExchange>> conditions;
  private final List<String> descriptions;
  /** The descriptions of conditions that need more than the request head. */
  private final List<String> beyondHead;

  private ExchangeMatcher(List<Predicate<RecordedExchange>> conditions,
      List<String> descriptions, List<String> beyondHead) {
    this.conditions = conditions;
    this.descriptions = descriptions;
    this.beyondHead = beyondHead;
  }

  /** Returns a matcher that matches every exchange. */
  public static ExchangeMatcher any() {
    return ANY;
  }

  /** Also requires this method, compared exactly (methods are case-sensitive). */
  public ExchangeMatcher method(String method) {
    Objects.requireNonNull(method, "method");
    return and("method=" + method, e -> e.request().method().equals(method));
  }

  /**
   * Also requires this host, compared as the proxy's access rules compare hosts: case-insensitively,
   * without a trailing dot ({@code tracking.example.} is {@code tracking.example}), and an IPv6
   * address with or without its brackets.
   */
  public ExchangeMatcher host(String host) {
    Objects.requireNonNull(host, "host");
    String wanted = comparable(host);
    return and("host=" + host, e -> comparable(e.request().host()).equals(wanted));
  }

  /**
   * Also requires this origin port (the scheme's default when the URL names none): two origins
   * on {@code localhost} tell apart by it.
   *
   * @throws IllegalArgumentException unless between 1 and 65535
   */
  public ExchangeMatcher port(int port) {
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port must be between 1 and 65535 (was " + port + ")");
    }
    return and("port=" + port, e -> e.request().port() == port);
  }

  /** Also requires this scheme, {@code http} or {@code https}, in any case. */
  public ExchangeMatcher scheme(String scheme) {
    Objects.requireNonNull(scheme, "scheme");
    return and("scheme=" + scheme, e -> e.request().scheme().equalsIgnoreCase(scheme));
  }

  /**
   * Also requires this path (without the query), compared exactly as sent, escapes and all:
   * {@code /files/my%20file.txt}, not {@code /files/my file.txt}.
   */
  public ExchangeMatcher path(String path) {
    Objects.requireNonNull(path, "path");
    return and("path=" + path, e -> e.request().path().equals(path));
  }

  /** Also requires the path to start with this prefix. */
  public ExchangeMatcher pathStartsWith(String prefix) {
    Objects.requireNonNull(prefix, "prefix");
    return and("path^=" + prefix, e -> e.request().path().startsWith(prefix));
  }

  /** Also requires the whole path to match this regular expression. */
  public ExchangeMatcher pathMatches(String regex) {
    Pattern pattern = Pattern.compile(regex);
    return and("path~=" + regex, e -> pattern.matcher(e.request().path()).matches());
  }

  /**
   * Also requires this absolute URL, compared exactly with {@link RecordedRequest#url()}, which
   * leaves out the scheme's default port: write {@code https://host/path}, not
   * {@code https://host:443/path}. A CONNECT's URL is that of the origin it opens, with its
   * port: {@code https://host:port/}.
   */
  public ExchangeMatcher url(String url) {
    Objects.requireNonNull(url, "url");
    return and("url=" + url, e -> e.request().url().equals(url));
  }

  /**
   * Also requires the query to carry the parameter {@code name} with {@code value} (one of its
   * values, when repeated), both compared form-decoded as UTF-8: {@code queryParameter("q", "a b")}
   * matches {@code ?q=a+b} and {@code ?q=a%20b}.
   */
  public ExchangeMatcher queryParameter(String name, String value) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(value, "value");
    return and("query " + name + "=" + value, e -> e.request().query()
        .map(query -> HarFields.queryPairs(query, StandardCharsets.UTF_8).stream()
            .anyMatch(pair -> pair[0].equals(name) && pair[1].equals(value)))
        .orElse(false));
  }

  /** Also requires a request header field with this name. */
  public ExchangeMatcher hasHeader(String name) {
    Objects.requireNonNull(name, "name");
    return and("header " + name, e -> e.request().headers().contains(name));
  }

  /** Also requires a request header field with this name and exactly this value. */
  public ExchangeMatcher header(String name, String value) {
    Objects.requireNonNull(value, "value");
    return and("header " + name + "=" + value,
        e -> e.request().headers().all(name).contains(value));
  }

  /**
   * Also requires the decoded request body text to contain this. Not for faults.
   *
   * <p>A {@linkplain RecordedBody#truncated() truncated} body that contains the text in the part
   * that was kept matches. One whose kept part does not cannot be decided, and testing it throws
   * an {@link AssertionError} that says how many bytes were kept: otherwise
   * {@code hasNoExchange(e -> e.bodyContains("secret"))} would pass without having seen the body
   * (probe t24). So does a body whose Content-Encoding the recorder could not decode
   * ({@link RecordedBody#isUndecodable()}: {@code br}, {@code zstd}, {@code gzip, gzip}...) when
   * its raw bytes do not hold the text as they are; the message names the encoding (probe v24).
   * Positive look-ups ({@code hasExchange}, {@code exchange}, {@code awaitExchange},
   * {@code first}) pass over such a body while another exchange is known to match, and fail with
   * that error only when none is (probe t26).
   */
  public ExchangeMatcher bodyContains(String text) {
    Objects.requireNonNull(text, "text");
    return beyondHead("body contains \"" + text + "\"", e -> {
      RecordedBody body = e.request().body();
      if (body.text().contains(text)) {
        return true;
      }
      // Still encoded or cut short, the recorded bytes say nothing of what the content lacks.
      if (!body.decidable()) {
        throw new UndecidableBodyError(body.undecidable("request", "contains <" + text + ">")
            + System.lineSeparator() + "in " + e);
      }
      return false;
    });
  }

  /** Also requires this response status. Not for faults. */
  public ExchangeMatcher status(int status) {
    return beyondHead("status=" + status, e -> e.response().status() == status);
  }

  /** Also requires a response header field with this name and exactly this value. Not for faults. */
  public ExchangeMatcher responseHeader(String name, String value) {
    Objects.requireNonNull(value, "value");
    return beyondHead("response header " + name + "=" + value,
        e -> e.response().headers().all(name).contains(value));
  }

  /** Also requires that a replaying proxy answered it from its recording. Not for faults. */
  public ExchangeMatcher replayed() {
    return beyondHead("replayed", RecordedExchange::replayed);
  }

  /** Also requires that a replaying proxy had no recording for it. Not for faults. */
  public ExchangeMatcher unmatched() {
    return beyondHead("unmatched", RecordedExchange::unmatched);
  }

  /**
   * Also requires that the proxy answered it itself (a 502 for a failed connect, a 504...).
   * Not for faults.
   */
  public ExchangeMatcher proxyMade() {
    return beyondHead("proxy-made", RecordedExchange::proxyMade);
  }

  /**
   * Also requires a condition of your own, described for failure messages. For faults it sees
   * an exchange holding only the request head (status 0, empty bodies).
   */
  public ExchangeMatcher matching(String description, Predicate<RecordedExchange> condition) {
    Objects.requireNonNull(description, "description");
    return and(description, Objects.requireNonNull(condition, "condition"));
  }

  /** Builds the matcher a selecting lambda describes, starting from {@link #any()}. */
  static ExchangeMatcher build(UnaryOperator<ExchangeMatcher> matcher) {
    Objects.requireNonNull(matcher, "matcher");
    return Objects.requireNonNull(matcher.apply(ANY), "matcher returned null");
  }

  /**
   * Returns a predicate on live requests, for faults, which are chosen before a request is
   * forwarded.
   *
   * @throws IllegalArgumentException if a condition needs the response or the request body
   */
  Predicate<Request> onRequestHead(String use) {
    if (!beyondHead.isEmpty()) {
      throw new IllegalArgumentException(use + " select requests by their head only (was "
          + String.join(" ", beyondHead) + "); use method, host, path, url or header conditions");
    }
    return request -> test(headOnly(request));
  }

  private static RecordedExchange headOnly(Request request) {
    RecordedExchange.Builder b = RecordedExchange.builder();
    b.startTime = Instant.now();
    b.duration = Duration.ZERO;
    b.request = RecordedRequest.of(request, RecordedBody.empty());
    return b.build();
  }

  @Override
  public boolean test(RecordedExchange exchange) {
    for (Predicate<RecordedExchange> condition : conditions) {
      if (!condition.test(exchange)) {
        return false;
      }
    }
    return true;
  }

  private ExchangeMatcher and(String description, Predicate<RecordedExchange> condition) {
    return with(description, condition, false);
  }

  private ExchangeMatcher beyondHead(String description, Predicate<RecordedExchange> condition) {
    return with(description, condition, true);
  }

  private ExchangeMatcher with(String description, Predicate<RecordedExchange> condition,
      boolean needsMore) {
    List<Predicate<RecordedExchange>> c = new ArrayList<>(conditions);
    c.add(condition);
    List<String> d = new ArrayList<>(descriptions);
    d.add(description);
    List<String> b = new ArrayList<>(beyondHead);
    if (needsMore) {
      b.add(description);
    }
    return new ExchangeMatcher(List.copyOf(c), List.copyOf(d), List.copyOf(b));
  }

  /** Returns the conditions, such as {@code method=POST path=/orders}, or {@code any exchange}. */
  @Override
  public String toString() {
    return descriptions.isEmpty() ? "any exchange" : String.join(" ", descriptions);
  }

  private static String comparable(String host) {
    String bare = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    bare = bare.endsWith(".") ? bare.substring(0, bare.length() - 1) : bare;
    return bare.toLowerCase(Locale.ROOT);
  }
}
