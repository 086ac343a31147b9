package dev.ferry.proxy.testkit;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * A readable, immutable predicate over recorded exchanges, built up one condition at a time:
 * {@code ExchangeMatcher.any().method("POST").path("/orders")}. Its {@code toString()} reads like
 * the conditions ({@code method=POST path=/orders}), which is what assertion failures show.
 *
 * <p>Every condition is on the request unless its name says response ({@code status},
 * {@code responseHeader}).
 */
public final class ExchangeMatcher implements Predicate<RecordedExchange> {
  private static final ExchangeMatcher ANY = new ExchangeMatcher(List.of(), List.of());

  private final List<Predicate<RecordedExchange>> conditions;
  private final List<String> descriptions;

  private ExchangeMatcher(List<Predicate<RecordedExchange>> conditions,
      List<String> descriptions) {
    this.conditions = conditions;
    this.descriptions = descriptions;
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

  /** Also requires this host, compared case-insensitively. */
  public ExchangeMatcher host(String host) {
    Objects.requireNonNull(host, "host");
    return and("host=" + host, e -> e.request().host().equalsIgnoreCase(host));
  }

  /** Also requires this path (without the query), compared exactly. */
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

  /** Also requires this absolute URL, compared exactly. */
  public ExchangeMatcher url(String url) {
    Objects.requireNonNull(url, "url");
    return and("url=" + url, e -> e.request().url().equals(url));
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

  /** Also requires the decoded request body text to contain this. */
  public ExchangeMatcher bodyContains(String text) {
    Objects.requireNonNull(text, "text");
    return and("body contains \"" + text + "\"", e -> e.request().body().text().contains(text));
  }

  /** Also requires this response status. */
  public ExchangeMatcher status(int status) {
    return and("status=" + status, e -> e.response().status() == status);
  }

  /** Also requires a response header field with this name and exactly this value. */
  public ExchangeMatcher responseHeader(String name, String value) {
    Objects.requireNonNull(value, "value");
    return and("response header " + name + "=" + value,
        e -> e.response().headers().all(name).contains(value));
  }

  /** Also requires a condition of your own, described for failure messages. */
  public ExchangeMatcher matching(String description, Predicate<RecordedExchange> condition) {
    Objects.requireNonNull(description, "description");
    return and(description, Objects.requireNonNull(condition, "condition"));
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
    List<Predicate<RecordedExchange>> c = new ArrayList<>(conditions);
    c.add(condition);
    List<String> d = new ArrayList<>(descriptions);
    d.add(description);
    return new ExchangeMatcher(List.copyOf(c), List.copyOf(d));
  }

  /** Returns the conditions, such as {@code method=POST path=/orders}, or {@code any exchange}. */
  @Override
  public String toString() {
    return descriptions.isEmpty() ? "any exchange" : String.join(" ", descriptions);
  }
}
