package dev.ferry.proxy.engine;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.Headers;
import dev.ferry.proxy.ProxyConfig;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.engine.http1.CanonicalAuthority;
import dev.ferry.proxy.engine.http1.Expectations;
import dev.ferry.proxy.engine.http1.Framing;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.MaxForwards;
import dev.ferry.proxy.engine.http1.ProxyFailure;
import dev.ferry.proxy.engine.http1.RequestHead;
import dev.ferry.proxy.engine.http1.TargetPaths;
import dev.ferry.proxy.engine.upstream.HostNames;
import java.net.InetSocketAddress;

/**
 * Turns a parsed request head into a {@link Request}, applying the rules that need more than one
 * field: the request-target form allowed in this mode (RFC 9112 §3.2), Host (§3.2.2), body
 * framing and size, Expect (RFC 9110 §10.1.1) and Max-Forwards (§7.6.2). A reverse proxy normalises the target's path
 * ({@link TargetPaths}) before routes, filters and the cache see it; a forward proxy passes the
 * URI on as it came (a proxy does not rewrite the target URI).
 */
final class InboundRequest {
  private InboundRequest() {}

  /**
   * The parts of a request that decide how the connection reads it; the request itself is left
   * unbuilt, with the client's fields and no body, for the exchange to finish in one build.
   * {@code toProxyItself}: a forward proxy's {@code OPTIONS *}, which asks the proxy about
   * itself (RFC 9110 §9.3.7), so the proxy answers it. {@code hostNamed}: false when a reverse
   * proxy's request named no host and the upstream's authority stands in for it.
   * {@code refusal}: the answer to a well-formed head the proxy refuses (a declared body over
   * the limit, an expectation it cannot meet), which is still an exchange listeners see; null
   * for a request to serve.
   */
  record Parsed(Request.Builder request, long bodyLength, boolean expectContinue, boolean toProxyItself,
      boolean hostNamed, HttpFailureException refusal) {}

  /**
   * In a reverse proxy, the authority that stands in for the Host an HTTP/1.0 client may omit:
   * the catch-all pool's first endpoint, else the proxy's own address ({@code local}, where a
   * gateway of routes alone was reached); null in a forward proxy.
   */
  static String reverseAuthority(ProxyConfig config, InetSocketAddress local) {
    if (!config.isReverse()) {
      return null;
    }
    return config.upstream().map(u -> u.endpoints().get(0).authority())
        .orElseGet(() -> HostNames.authorityText(local.getAddress(), local.getPort()));
  }

  /**
   * @param upstreamAuthority the reverse proxy's upstream, or an intercepted CONNECT's target,
   *     standing in for the Host an HTTP/1.0 client may omit; null in forward mode
   * @param reverse a reverse proxy's request (not one in an intercepted session): its path is
   *     normalised for its routes (and refused where a backend could read it otherwise), and an
   *     absolute-form target must name the listener's scheme; a forward proxy, intercepting or
   *     not, passes paths on untouched
   * @param overTls the client speaks TLS to the proxy: an origin-form target is an https URL
   */
  static Parsed parse(RequestHead head, String upstreamAuthority, boolean reverse, boolean overTls,
      long maxBodyBytes) throws HttpFailureException {
    boolean forward = upstreamAuthority == null;
    String host = singleHost(head);
    Request.Builder builder = Request.builder().method(head.method()).version(head.version());
    String target = head.target();
    boolean toProxyItself = false;
    boolean hostNamed = true;
    if (target.indexOf('#') >= 0) {
      // No form of request-target has a fragment (RFC 9112 §3.2); in a path it would be read
      // as a segment, and dot-segments removed across it.
      throw malformed("fragment in request-target");
    }
    try {
      if (head.method().equals("CONNECT")) {
        if (!forward) {
          throw new HttpFailureException(ProxyFailure.METHOD_NOT_ALLOWED, "CONNECT is for forward proxies");
        }
        checkConnectTarget(target);
        builder.authority(target).target(target);
      } else if (startsWithIgnoreCase(target, "http://") || startsWithIgnoreCase(target, "https://")) {
        builder.url(target);
        if (!host.isEmpty()) {
          // The target names the origin and the Host is replaced (RFC 9112 §3.2.2), but an
          // invalid Host is still a bad request (§3.2), as it is beside an origin-form target.
          Request.builder().authority(host);
        }
        Request parsed = builder.build();
        if (parsed.authority().indexOf('@') >= 0 || parsed.authority().isEmpty()) {
          throw malformed("invalid authority in request-target");
        }
        String listening = overTls ? "https" : "http";
        if (reverse && !parsed.scheme().equalsIgnoreCase(listening)) {
          // The upstream hears the connection's scheme (X-Forwarded-Proto, Forwarded) while the
          // cache would key on the written one: one request in the clear could store an
          // answer for the https URL (probe poison1). Not this listener's URL (RFC 9110 §7.4).
          // (An intercepted session's requests are all https, whatever they spell.)
          throw new HttpFailureException(ProxyFailure.MISDIRECTED_REQUEST,
              parsed.scheme() + " request-target on an " + listening + " listener");
        }
        checkHost(parsed.authority());
        builder.authority(CanonicalAuthority.of(parsed.scheme(), parsed.authority()));
        if (head.method().equals("OPTIONS") && hasNoPathOrQuery(target)) {
          // RFC 9112 §3.2.4: OPTIONS on an empty path goes to the origin as the server-wide "*".
          builder.target("*");
        } else if (reverse) {
          builder.target(TargetPaths.normalise(parsed.target()));
        }
      } else if (forward && target.equals("*") && head.method().equals("OPTIONS")) {
        if (host.isEmpty()) {
          throw malformed("OPTIONS * without Host");
        }
        toProxyItself = true;
        builder.authority(host).target(target);
      } else if (target.startsWith("/") || (target.equals("*") && head.method().equals("OPTIONS"))) {
        if (forward) {
          throw malformed("a forward proxy needs an absolute-form request-target (http://host/path)");
        }
        hostNamed = !host.isEmpty();
        String scheme = overTls ? "https" : "http";
        // One spelling of the host, as the cache keys on it: what goes upstream (preserved Host,
        // X-Forwarded-Host, Forwarded) is what the stored answer was built for (probe p24).
        builder.scheme(scheme).authority(hostNamed ? CanonicalAuthority.of(scheme, host) : upstreamAuthority)
            .target(target.equals("*") || !reverse ? target : TargetPaths.normalise(target));
      } else {
        throw malformed("invalid request-target form");
      }
    } catch (IllegalArgumentException e) {
      throw malformed("invalid request-target or Host");
    }
    if (!host.isEmpty()) {
      checkHost(host);
    }
    long length = Framing.requestBodyLength(head.headers(), head.minorVersion());
    if (length != 0 && head.method().equals("CONNECT")) {
      // RFC 9110 §9.3.6: a CONNECT has no content. Framed as one, the bytes after its head would
      // be a body to a hop in front and tunnel data here: two readings of one stream.
      throw malformed("CONNECT with content (Content-Length or Transfer-Encoding)");
    }
    MaxForwards.remaining(head.method(), head.headers());
    HttpFailureException refusal = null;
    if (length > maxBodyBytes) {
      refusal = new HttpFailureException(ProxyFailure.BODY_TOO_LARGE,
          "request body of " + length + " bytes exceeds " + maxBodyBytes + " bytes");
    }
    boolean expectContinue = false;
    switch (Expectations.of(head.headers().all("Expect"))) {
      case CONTINUE -> expectContinue = head.minorVersion() == 1 && length != 0;
      case UNSUPPORTED -> {
        if (refusal == null) {
          refusal = new HttpFailureException(ProxyFailure.EXPECTATION_FAILED, "only 100-continue is supported");
        }
      }
      case NONE -> { }
    }
    builder.headers(head.headers()).body(Body.empty());
    return new Parsed(builder, length, expectContinue && refusal == null, toProxyItself, hostNamed, refusal);
  }

  private static void checkConnectTarget(String target) throws HttpFailureException {
    int colon = target.lastIndexOf(':');
    if (colon <= 0 || colon == target.length() - 1 || target.indexOf('/') >= 0 || target.indexOf('@') >= 0) {
      throw malformed("CONNECT needs an authority-form target, host:port");
    }
    checkHost(target);
    if (Integer.parseInt(target, colon + 1, target.length(), 10) == 0) {
      // Port 0 names no service; connecting to it fails late, as a 502 blaming the upstream.
      throw malformed("CONNECT to port 0");
    }
  }

  /**
   * Checks an authority, {@code host} or {@code host:port}, against RFC 3986 §3.2.2–3.2.3 (RFC 9112
   * §3.2: a Host with an invalid value is a 400): a registered name, or an IPv6 address in
   * brackets, then an optional port of digits. A byte the grammar does not allow ({@code <},
   * {@code |}, {@code `}, a lone {@code %}) is one a routing rule, a log or the upstream's own
   * parser would read differently. Of the registered names the grammar allows, only those a DNS
   * name or an IPv4 address can be are taken: unreserved characters. The sub-delims and
   * percent-escapes name no host one could connect to, and a comma made two hosts of one:
   * {@code evil.test,app.good.test} passed a route for {@code *.good.test} and reached its
   * backend as an {@code X-Forwarded-Host} list whose first element is {@code evil.test}
   * (probe h25).
   */
  private static void checkHost(String host) throws HttpFailureException {
    int hostEnd;
    if (host.startsWith("[")) {
      int close = host.indexOf(']');
      if (close < 0 || host.lastIndexOf(':', close) < 0 || !isIpv6Literal(host, 1, close)) {
        // Brackets hold an IPv6 literal and nothing else (RFC 3986 §3.2.2).
        throw malformed("brackets around something other than an IPv6 address in Host or request-target");
      }
      hostEnd = close + 1;
    } else {
      hostEnd = host.indexOf(':');
      if (hostEnd >= 0 && hostEnd != host.lastIndexOf(':')) {
        // RFC 3986 §3.2.2: an IPv6 literal is bracketed; unbracketed, its port cannot be told apart.
        throw malformed("IPv6 address without brackets in Host or request-target");
      }
      hostEnd = hostEnd < 0 ? host.length() : hostEnd;
      if (!isRegName(host, hostEnd)) {
        throw malformed("invalid host in Host or request-target");
      }
    }
    if (hostEnd < host.length() && (host.charAt(hostEnd) != ':' || !isDigits(host, hostEnd + 1))) {
      throw malformed("invalid port in Host or request-target");
    }
  }

  private static boolean isRegName(String host, int end) {
    for (int i = 0; i < end; i++) {
      char c = host.charAt(i);
      if (!(isAlphaNum(c) || c == '-' || c == '.' || c == '_' || c == '~')) {
        return false;
      }
    }
    return true;
  }

  private static boolean isIpv6Literal(String host, int from, int to) {
    for (int i = from; i < to; i++) {
      char c = host.charAt(i);
      if (Character.digit(c, 16) < 0 && c != ':' && c != '.') {
        return false;
      }
    }
    return true;
  }

  private static boolean isDigits(String s, int from) {
    for (int i = from; i < s.length(); i++) {
      if (s.charAt(i) < '0' || s.charAt(i) > '9') {
        return false;
      }
    }
    return true;
  }

  private static boolean isAlphaNum(char c) {
    return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9';
  }

  /** True for an absolute-form target whose authority is all there is: {@code http://host:8080}. */
  private static boolean hasNoPathOrQuery(String target) {
    int authority = target.indexOf("://") + 3;
    return target.indexOf('/', authority) < 0 && target.indexOf('?', authority) < 0;
  }

  private static boolean startsWithIgnoreCase(String s, String prefix) {
    return s.regionMatches(true, 0, prefix, 0, prefix.length());
  }

  /**
   * RFC 9112 §3.2: the request's one Host field ("" for an HTTP/1.0 request without one); a
   * second Host, or none in HTTP/1.1, is refused (400) whatever the request is for, the proxy's
   * own endpoints included.
   */
  static String singleHost(RequestHead head) throws HttpFailureException {
    Headers headers = head.headers();
    String host = null;
    for (int i = 0; i < headers.size(); i++) {
      if (headers.name(i).equalsIgnoreCase("Host")) {
        if (host != null) {
          throw malformed("more than one Host field");
        }
        host = headers.value(i);
      }
    }
    if (host == null && head.minorVersion() == 1) {
      throw malformed("HTTP/1.1 request without Host");
    }
    return host == null ? "" : host;
  }

  private static HttpFailureException malformed(String detail) {
    return new HttpFailureException(ProxyFailure.MALFORMED_REQUEST, detail);
  }
}
