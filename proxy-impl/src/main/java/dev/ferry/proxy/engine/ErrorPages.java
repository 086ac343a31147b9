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

  /**
   * True if the client names {@code text/html} among what it accepts, with a weight above 0 and
   * none below that of {@code text/plain} (RFC 9110 §12.5.1: {@code q=0} is "not acceptable"; a
   * client that refused HTML, or preferred plain text, got the page, probe h14). A client that
   * names no {@code text/html} (curl's {@code *}{@code /*}) gets the plain text.
   */
  private static boolean acceptsHtml(Headers headers) {
    double html = -1;
    double plain = -1;
    for (String accept : headers.all("Accept")) {
      for (String range : accept.split(",")) {
        String[] parts = range.split(";");
        String type = parts[0].trim().toLowerCase(java.util.Locale.ROOT);
        if (type.equals("text/html")) {
          html = Math.max(html, weight(parts));
        } else if (type.equals("text/plain")) {
          plain = Math.max(plain, weight(parts));
        }
      }
    }
    return html > 0 && html >= plain;
  }

  /** A media range's {@code q}, 1 without one; 0 for one that does not parse. */
  private static double weight(String[] parameters) {
    for (int i = 1; i < parameters.length; i++) {
      String parameter = parameters[i].trim();
      if (parameter.length() > 2 && parameter.regionMatches(true, 0, "q=", 0, 2)) {
        try {
          double q = Double.parseDouble(parameter.substring(2).trim());
          return q >= 0 && q <= 1 ? q : 0;
        } catch (NumberFormatException e) {
          return 0;
        }
      }
    }
    return 1;
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
