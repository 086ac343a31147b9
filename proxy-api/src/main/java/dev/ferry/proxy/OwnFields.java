package dev.ferry.proxy;

import java.util.Locale;
import java.util.Set;

/**
 * The check of an option naming a field the proxy writes values of its own into (a request ID, a
 * cache status, a targeted cache-control field): a field that already has a meaning would have
 * that meaning replaced, on the way upstream, to the client, or both (probe e24: a cache status
 * in {@code Cache-Control} answered {@code Cache-Control: MISS}; a request ID in
 * {@code Max-Forwards} sent a UUID where a number goes).
 */
final class OwnFields {
  private OwnFields() {}

  /** Fields the proxy writes, or acts on, itself. */
  private static final Set<String> PROXY_SET = Set.of("traceparent", "tracestate", "b3", "via",
      "forwarded", "x-real-ip", "client-cert", "client-cert-chain", "expect", "max-forwards",
      "proxy-status");

  /** Fields with a meaning of their own (RFC 9110's registry and common extensions). */
  private static final Set<String> MEANINGFUL = Set.of("authorization", "proxy-authorization",
      "proxy-authenticate", "authentication-info", "proxy-authentication-info", "www-authenticate",
      "cookie", "set-cookie", "accept", "accept-charset", "accept-encoding", "accept-language",
      "accept-ranges", "allow", "cache-control", "pragma", "range", "if-match", "if-none-match",
      "if-modified-since", "if-unmodified-since", "if-range", "referer", "user-agent", "from",
      "origin", "location", "refresh", "etag", "expires", "last-modified", "vary", "age", "date",
      "retry-after", "server", "link", "alt-svc", "strict-transport-security", "priority",
      "prefer", "preference-applied", "early-data", "cache-status", "x-frame-options",
      "x-content-type-options", "x-xss-protection", "referrer-policy", "permissions-policy",
      "cross-origin-opener-policy", "cross-origin-embedder-policy", "cross-origin-resource-policy",
      "clear-site-data", "x-permitted-cross-domain-policies", "timing-allow-origin",
      "server-timing", "nel", "report-to", "reporting-endpoints", "feature-policy", "document-policy",
      "origin-agent-cluster", "service-worker-allowed", "expect-ct", "public-key-pins",
      "public-key-pins-report-only", "x-dns-prefetch-control", "x-download-options",
      "x-http-method-override", "x-http-method", "x-method-override", "repr-digest", "digest",
      "want-repr-digest", "want-content-digest", "want-digest", "warning", "baggage");

  /** Targeted cache-control fields (RFC 9213): refused for anything but the targeted field. */
  private static final Set<String> TARGETED = Set.of("cdn-cache-control", "surrogate-control");

  /**
   * @throws IllegalArgumentException "OPTION cannot be NAME: ..." for an invalid name, one the
   *     proxy manages ({@link Headers#isProxyManaged}), sets or acts on itself (trace context,
   *     {@code Via}, {@code Forwarded}, {@code X-Forwarded-*}, {@code Expect},
   *     {@code Proxy-Status}...), or one with a meaning of its own (credentials, caching, content
   *     metadata, integrity digests, browser security policies, method overrides, {@code Sec-*},
   *     CORS; a targeted cache-control field, unless {@code option} is
   *     {@code targetedField})
   */
  static void check(String name, String option) {
    Headers.checkOwnFieldName(name, option);
    // Backends read X_HTTP_Method_Override as the dashed name (CGI, PHP, WSGI): so do these checks.
    String lower = name.trim().toLowerCase(Locale.ROOT).replace('_', '-');
    if (PROXY_SET.contains(lower) || lower.startsWith("x-b3-") || lower.startsWith("x-forwarded-")) {
      throw new IllegalArgumentException(option + " cannot be " + name
          + ": the proxy sets or acts on that field itself (trace context, Via, Forwarded, Expect...)");
    }
    if (MEANINGFUL.contains(lower) || lower.startsWith("content-") || lower.startsWith("sec-")
        || lower.startsWith("access-control-")
        || ((TARGETED.contains(lower) || lower.endsWith("-cdn-cache-control")) && !option.equals("targetedField"))) {
      throw new IllegalArgumentException(option + " cannot be " + name
          + ": that field means something else (credentials, caching, content metadata, method overrides...),"
          + " which the proxy's value would replace");
    }
  }
}
