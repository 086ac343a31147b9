package dev.ferry.proxy.engine.http1;

import java.util.Locale;

/**
 * URLs as the logs show them: the values of query parameters that carry credentials (tokens,
 * signatures, passwords, API keys, OAuth codes, session ids, as in pre-signed and OAuth
 * redirect URLs) are replaced by {@code ***}, as {@code Authorization} and {@code Cookie} values
 * never reach a log. Listeners and the testkit get the URL as it was.
 */
public final class LoggedUrls {
  private static final String[] SECRET_PARTS = {"token", "secret", "passw", "pwd", "apikey", "api_key",
      "api-key", "signature", "credential", "session", "auth"};
  private static final String[] SECRET_NAMES = {"key", "sig", "code"};
  private static final String REDACTED = "***";

  private LoggedUrls() {}

  /** {@code url} with secret query values replaced; the same instance when it has none. */
  public static String redact(String url) {
    int query = url == null ? -1 : url.indexOf('?');
    if (query < 0) {
      return url;
    }
    StringBuilder out = null;
    int start = query + 1;
    while (start <= url.length()) {
      int end = url.indexOf('&', start);
      if (end < 0) {
        end = url.length();
      }
      int equals = url.indexOf('=', start);
      if (equals > start && equals < end && isSecret(url.substring(start, equals))) {
        if (out == null) {
          out = new StringBuilder(url.length()).append(url, 0, start);
        }
        out.append(url, start, equals + 1).append(REDACTED);
      } else if (out != null) {
        out.append(url, start, end);
      }
      if (end == url.length()) {
        break;
      }
      if (out != null) {
        out.append('&');
      }
      start = end + 1;
    }
    return out == null ? url : out.toString();
  }

  private static boolean isSecret(String name) {
    String lower = name.toLowerCase(Locale.ROOT);
    for (String exact : SECRET_NAMES) {
      if (lower.equals(exact)) {
        return true;
      }
    }
    for (String part : SECRET_PARTS) {
      if (lower.contains(part)) {
        return true;
      }
    }
    return false;
  }
}
