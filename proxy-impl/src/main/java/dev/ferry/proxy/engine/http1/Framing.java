package dev.ferry.proxy.engine.http1;

import dev.ferry.proxy.Headers;
import java.util.List;

/**
 * Decides how a message body is delimited, per RFC 9112 §6.3. Anything ambiguous is refused:
 * a message whose framing two parsers could read differently must never be forwarded.
 */
public final class Framing {
  /** The body is chunked. */
  public static final long CHUNKED = -2;
  /** The body runs until the connection closes (responses only). */
  public static final long UNTIL_CLOSE = -1;

  private Framing() {}

  /** Returns the request body's length, {@link #CHUNKED}, or 0 when there is none. */
  public static long requestBodyLength(Headers headers, int minorVersion)
      throws HttpFailureException {
    List<String> transferEncoding = headers.all("Transfer-Encoding");
    if (!transferEncoding.isEmpty()) {
      if (minorVersion == 0) {
        // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message means the framing is faulty.
        throw malformed("Transfer-Encoding in an HTTP/1.0 request");
      }
      if (headers.contains("Content-Length")) {
        throw malformed("Content-Length together with Transfer-Encoding");
      }
      if (!isOnlyChunked(transferEncoding)) {
        if (endsInOneChunked(transferEncoding)) {
          // RFC 9112 §6.1: framed, but in a coding the proxy does not implement (gzip, chunked);
          // never passed on, as an upstream might read such framing its own way.
          throw new HttpFailureException(ProxyFailure.CODING_NOT_IMPLEMENTED,
              "only the chunked transfer coding is implemented");
        }
        // RFC 9112 §6.3: without a final chunked, the body's length cannot be known.
        throw malformed("Transfer-Encoding must be exactly chunked");
      }
      return CHUNKED;
    }
    long length = contentLength(headers);
    if (length == -2) {
      throw malformed("malformed or conflicting Content-Length");
    }
    return Math.max(length, 0);
  }

  /**
   * Returns the response body's length, {@link #CHUNKED} or {@link #UNTIL_CLOSE}.
   *
   * @throws HttpFailureException (502) for conflicting or malformed framing
   */
  public static long responseBodyLength(String requestMethod, int status, Headers headers)
      throws HttpFailureException {
    if (requestMethod.equals("HEAD") || status < 200 || status == 204 || status == 304) {
      return 0;
    }
    List<String> transferEncoding = headers.all("Transfer-Encoding");
    if (!transferEncoding.isEmpty()) {
      if (headers.contains("Content-Length")) {
        throw badResponse("Content-Length together with Transfer-Encoding");
      }
      if (!isOnlyChunked(transferEncoding)) {
        // Any other coding would have to be undone or passed on; neither is safe to guess.
        throw badResponse("unsupported Transfer-Encoding");
      }
      return CHUNKED;
    }
    long length = contentLength(headers);
    if (length == -2) {
      throw badResponse("malformed or conflicting Content-Length");
    }
    return length;
  }

  /**
   * Returns the Content-Length, -1 when absent, or -2 when malformed or when several values
   * differ (identical repeats are accepted, RFC 9110 §8.6).
   */
  public static long contentLength(Headers headers) {
    long result = -1;
    for (int i = 0; i < headers.size(); i++) {
      if (!headers.name(i).equalsIgnoreCase("Content-Length")) {
        continue;
      }
      String field = headers.value(i);
      // Walks the comma-separated elements in place: this runs on every message.
      for (int start = 0, end; start <= field.length(); start = end + 1) {
        end = field.indexOf(',', start);
        if (end < 0) {
          end = field.length();
        }
        long value = parseDigits(field, start, end);
        if (value < 0 || (result >= 0 && result != value)) {
          return -2;
        }
        result = value;
      }
    }
    return result;
  }

  /**
   * The number {@code text} holds from {@code start} to {@code end}, without what
   * {@link String#trim()} removes around it; -1 if that is empty or not only digits.
   */
  private static long parseDigits(String text, int start, int end) {
    while (start < end && isBlank(text.charAt(start))) {
      start++;
    }
    while (end > start && isBlank(text.charAt(end - 1))) {
      end--;
    }
    if (start == end || end - start > 18) {
      return -1;
    }
    long value = 0;
    for (int i = start; i < end; i++) {
      char c = text.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      value = value * 10 + (c - '0');
    }
    return value;
  }

  /** What {@link String#trim()} removes. */
  private static boolean isBlank(char c) {
    return c <= ' ';
  }

  private static boolean isOnlyChunked(List<String> values) {
    String[] codings = String.join(",", values).split(",", -1);
    return codings.length == 1 && codings[0].trim().equalsIgnoreCase("chunked");
  }

  /**
   * Whether the codings are tokens (without parameters) of which chunked is the last, and the
   * only chunked: a body framed as it should be, in codings applied before it.
   */
  private static boolean endsInOneChunked(List<String> values) {
    String[] codings = String.join(",", values).split(",", -1);
    for (int i = 0; i < codings.length; i++) {
      String coding = codings[i].trim();
      if (coding.isEmpty() || !Tokens.isToken(coding)
          || coding.equalsIgnoreCase("chunked") != (i == codings.length - 1)) {
        return false;
      }
    }
    return true;
  }

  private static HttpFailureException malformed(String detail) {
    return new HttpFailureException(ProxyFailure.MALFORMED_REQUEST, detail);
  }

  private static HttpFailureException badResponse(String detail) {
    return new HttpFailureException(ProxyFailure.UPSTREAM_BAD_RESPONSE, detail);
  }
}
