package dev.ferry.proxy.engine;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.Headers;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.ProxyFailure;
import java.util.Map;

/**
 * The proxy's own error answers, as HTML for clients that accept {@code text/html} (the
 * configured page for the status, or a built-in one) and as plain text otherwise. Details are
 * HTML-escaped; they never carry request bytes (see {@link ErrorResponses}).
 */
final class ErrorPages {
  private static final String DEFAULT = "<!doctype html>\n<html><head><meta charset=\"utf-8\">"
      + "<title>{status} {reason}</title></head>\n<body><h1>{status} {reason}</h1><p>{detail}</p>"
      + "<hr><p>ferry</p></body></html>\n";

  private final Map<Integer, String> pages;

  ErrorPages(Map<Integer, String> pages) {
    this.pages = pages;
  }

  /**
   * @param requestHeaders the request's headers, to see whether it accepts HTML; null when the
   *     head could not be read
   */
  Response render(HttpFailureException e, Headers requestHeaders) {
    return dress(ErrorResponses.render(e), e.failure().message() + ": " + e.detail(), requestHeaders);
  }

  /**
   * A built-in filter's own answer ({@code text}: 401, 407, 429) as the page for its status, to a
   * client that accepts HTML, its other fields (a challenge, {@code Retry-After}) kept; as it is
   * otherwise. Such answers were always plain text, whatever page was configured (probe s12).
   */
  Response render(Response text, ProxyFailure failure, Headers requestHeaders) {
    return dress(text, failure.message(), requestHeaders);
  }

  private Response dress(Response text, String detail, Headers requestHeaders) {
    if (requestHeaders == null || !acceptsHtml(requestHeaders)) {
      return text;
    }
    int status = text.status();
    String html = pages.getOrDefault(status, DEFAULT)
        .replace("{status}", Integer.toString(status))
        .replace("{reason}", escape(text.reason()))
        .replace("{detail}", escape(detail));
    return text.toBuilder()
        .headers(text.headers().without("Content-Type").without("Content-Length")
            .plus("Content-Type", "text/html; charset=utf-8"))
        .body(Body.of(html)).build();
  }

  private static boolean acceptsHtml(Headers headers) {
    for (String accept : headers.all("Accept")) {
      if (accept.toLowerCase(java.util.Locale.ROOT).contains("text/html")) {
        return true;
      }
    }
    return false;
  }

  static String escape(String text) {
    StringBuilder out = new StringBuilder(text.length() + 16);
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '&' -> out.append("&amp;");
        case '"' -> out.append("&quot;");
        case '\'' -> out.append("&#39;");
        default -> out.append(c);
      }
    }
    return out.toString();
  }
}
