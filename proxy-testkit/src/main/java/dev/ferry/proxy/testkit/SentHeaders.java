package dev.ferry.proxy.testkit;

import dev.ferry.proxy.Headers;
import dev.ferry.proxy.Response;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Locale;

/**
 * The header fields of a response as the client got them. The engine adds a {@code Date} to a
 * response without one and frames the body ({@code Content-Length}) as it writes the head, after
 * listeners have seen the response, so answers the proxy made itself, and replayed ones, were
 * recorded without them (probe t25). The testkit sees only the public API: it adds them here as
 * the engine's writer does, from the response and the time its head went out. Hop-by-hop fields
 * the writer adds ({@code Connection}, {@code Transfer-Encoding}) are for the one connection and
 * are not recorded.
 */
final class SentHeaders {
  /** IMF-fixdate, RFC 9110 §5.6.7, as the engine writes it. */
  private static final DateTimeFormatter IMF_FIXDATE =
      DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US);

  private SentHeaders() {}

  /**
   * The fields of {@code sent}, answering {@code method}, as written at {@code at}: a
   * {@code Date} if it had none (RFC 9110 §6.6.1), and a body of known length framed by
   * {@code Content-Length}. An answer without content keeps the Content-Length that describes
   * its representation (to a HEAD, a 304, RFC 9110 §8.6) and has none otherwise (1xx, 204, a
   * CONNECT's 2xx), as the engine sends it.
   */
  static Headers of(Response sent, String method, Instant at) {
    int status = sent.status();
    boolean tunnel = status == 101 || method.equals("CONNECT") && status / 100 == 2;
    // A 101 keeps its Connection: Upgrade, as the writer sends it.
    Headers headers = status == 101 ? sent.headers() : withoutConnectionOptions(sent.headers());
    if (!tunnel && !headers.contains("Date")) {
      headers = headers.plus("Date", IMF_FIXDATE.format(
          at.truncatedTo(ChronoUnit.SECONDS).atOffset(ZoneOffset.UTC)));
    }
    boolean bodiless = tunnel || method.equals("HEAD") || status < 200 || status == 204
        || status == 304;
    if (bodiless) {
      return method.equals("HEAD") || status == 304 ? headers : headers.without("Content-Length");
    }
    long length = sent.body().contentLength();
    headers = headers.without("Content-Length");
    return length >= 0 ? headers.plus("Content-Length", Long.toString(length)) : headers;
  }

  /**
   * Without {@code Connection} and the fields it names, which the writer drops: caching fields
   * an upstream listed there stay on the response for the proxy's cache until then.
   */
  private static Headers withoutConnectionOptions(Headers headers) {
    if (!headers.contains("Connection")) {
      return headers;
    }
    Headers result = headers;
    for (String line : headers.all("Connection")) {
      for (String option : line.split(",")) {
        String name = option.trim();
        if (!name.isEmpty()) {
          result = result.without(name);
        }
      }
    }
    return result.without("Connection");
  }
}
