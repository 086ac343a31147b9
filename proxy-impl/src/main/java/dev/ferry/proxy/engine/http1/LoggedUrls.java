package dev.ferry.proxy.engine.http1;

/**
 * URLs as the logs show them: the values of query and path parameters that carry credentials
 * (tokens, signatures, passwords, API keys, OAuth codes, session ids, as in pre-signed and OAuth
 * redirect URLs and {@code ;jsessionid=}; names percent-decoded first) and the userinfo of an absolute URL
 * or authority-form target are replaced by {@code ***}, as {@code Authorization} and
 * {@code Cookie} values never reach a log. Listeners and the testkit get the URL as it was.
 */
public final class LoggedUrls {
  private static final String[] SECRET_PARTS = {"token", "secret", "passw", "passphrase", "pwd",
      "apikey", "api_key", "api-key", "accesskey", "privatekey", "signature", "credential", "session",
      "auth", "jwt", "assertion"};
  /** Whole names only: as parts they are in too many harmless ones (keyword, pinned, bypass). */
  private static final String[] SECRET_NAMES = {"key", "sig", "code", "pass", "pw", "pin", "otp"};
  /** A key named as one ({@code api_key}, {@code subscription-key}), not {@code monkey}. */
  private static final String[] SECRET_SUFFIXES = {"_key", "-key", ".key"};
  private static final String REDACTED = "***";
  private static final int MAX_DECODINGS = 3;

  private LoggedUrls() {}

  /** {@code url} redacted, as a key=value log event's value (see {@link LogValues#of}). */
  public static String logValue(String url) {
    return LogValues.of(redact(url));
  }

  /** {@code url} with secret query values replaced; the same instance when it has none. */
  public static String redact(String url) {
    if (url == null) {
      return null;
    }
    return redactParameters(withoutUserinfo(url));
  }

  /**
   * {@code http://user:password@host/} as {@code http://***@host/}, and a CONNECT's
   * {@code user:password@host:443} as {@code ***@host:443}; the same instance without userinfo.
   */
  private static String withoutUserinfo(String url) {
    int authority = authorityStart(url);
    int end = authorityEnd(url);
    int at = url.lastIndexOf('@', end - 1);
    return at < authority ? url : url.substring(0, authority) + REDACTED + url.substring(at);
  }

  /** Where the authority begins: after {@code scheme://}, else at 0 (authority-form). */
  private static int authorityStart(String url) {
    int scheme = url.indexOf("://");
    return scheme < 0 ? 0 : scheme + 3;
  }

  /** Where the path begins (the authority ends); 0 for origin-form, the length for authority-form. */
  private static int authorityEnd(String url) {
    if (url.startsWith("/")) {
      return 0;
    }
    int end = authorityStart(url);
    while (end < url.length() && url.charAt(end) != '/' && url.charAt(end) != '?'
        && url.charAt(end) != '#') {
      end++;
    }
    return end;
  }

  /**
   * Redacts the parameters of the query, separated by {@code &} or, in the older form HTML 4
   * recommended, by {@code ;}, those of the fragment (OAuth's implicit flow returns
   * {@code #access_token=...}; a client should not send one, but some do, and a {@code Referer}
   * may hold one), and those of path segments ({@code /app;jsessionid=...}, as servlet
   * containers rewrite URLs to carry a session).
   */
  private static String redactParameters(String url) {
    int question = url.indexOf('?');
    int hash = url.indexOf('#');
    // Where the query or, without one before it, the fragment begins: '&' separates from there.
    int query = question < 0 ? hash : hash < 0 ? question : Math.min(question, hash);
    StringBuilder out = null;
    int copied = 0;
    int at = authorityEnd(url);
    while ((at = parameterStart(url, at, query)) >= 0) {
      int start = at + 1;
      int end = parameterEnd(url, start, query);
      int equals = url.indexOf('=', start);
      if (equals > start && equals < end && isSecret(url, start, equals)) {
        if (out == null) {
          out = new StringBuilder(url.length());
        }
        out.append(url, copied, equals + 1).append(REDACTED);
        copied = end;
      }
      at = end;
    }
    return out == null ? url : out.append(url, copied, url.length()).toString();
  }

  /** The separator at or after {@code from} that a parameter follows; -1 if none is left. */
  private static int parameterStart(String url, int from, int query) {
    for (int i = from; i < url.length(); i++) {
      char c = url.charAt(i);
      if (i == query || c == ';' || c == '#' || (c == '&' && query >= 0 && i > query)) {
        return i;
      }
    }
    return -1;
  }

  /** Where the parameter from {@code start} ends: at the next separator, or at the end. */
  private static int parameterEnd(String url, int start, int query) {
    for (int i = start; i < url.length(); i++) {
      char c = url.charAt(i);
      boolean inQuery = query >= 0 && i > query;
      if (i == query || c == ';' || c == '#' || (inQuery ? c == '&' : c == '/')) {
        return i;
      }
    }
    return url.length();
  }

  /**
   * Whether the parameter name {@code url[from, to)} names a credential; no copy of it is made
   * unless it is percent-encoded ({@code pass%77ord}), which is decoded first: until no escape is
   * left, so that one encoded twice ({@code pass%2577ord}) is found too, and at most a few times,
   * since a broken escape ({@code %zz}) stays as it is.
   */
  private static boolean isSecret(String url, int from, int to) {
    int escape = url.indexOf('%', from);
    if (escape >= 0 && escape < to) {
      String decoded = url.substring(from, to);
      for (int round = 0; round < MAX_DECODINGS && decoded.indexOf('%') >= 0; round++) {
        String again = decode(decoded);
        if (again.equals(decoded)) {
          break;
        }
        decoded = again;
      }
      return namesSecret(decoded, 0, decoded.length());
    }
    return namesSecret(url, from, to);
  }

  private static boolean namesSecret(String url, int from, int to) {
    int length = to - from;
    for (String exact : SECRET_NAMES) {
      if (length == exact.length() && url.regionMatches(true, from, exact, 0, length)) {
        return true;
      }
    }
    for (String suffix : SECRET_SUFFIXES) {
      if (length > suffix.length() && url.regionMatches(true, to - suffix.length(), suffix, 0, suffix.length())) {
        return true;
      }
    }
    for (String part : SECRET_PARTS) {
      for (int i = from; i + part.length() <= to; i++) {
        if (url.regionMatches(true, i, part, 0, part.length())) {
          return true;
        }
      }
    }
    return false;
  }

  /** Percent-decodes {@code name}, each escape to one byte, as ISO-8859-1; a broken escape stays. */
  private static String decode(String name) {
    StringBuilder out = new StringBuilder(name.length());
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      int high = c == '%' && i + 2 < name.length() ? HeadScan.hexValue(name.charAt(i + 1)) : -1;
      int low = high < 0 ? -1 : HeadScan.hexValue(name.charAt(i + 2));
      if (low < 0) {
        out.append(c);
      } else {
        out.append((char) (high * 16 + low));
        i += 2;
      }
    }
    return out.toString();
  }
}
