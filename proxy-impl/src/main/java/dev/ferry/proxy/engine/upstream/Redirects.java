package dev.ferry.proxy.engine.upstream;

import dev.ferry.proxy.Headers;
import dev.ferry.proxy.Upstream;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import java.util.Locale;

/**
 * A reverse proxy's answer to an endpoint naming itself: a backend builds absolute URLs from the
 * {@code Host} it received, which is the endpoint's own authority unless the pool preserves the
 * client's, and an address such as {@code http://10.0.0.5:8080/login} is seldom one the client
 * can reach. A {@code Location} or a {@code Refresh} URL whose scheme, host and port are the
 * endpoint's, under its base path, becomes the path the client would ask for: the route's
 * stripped prefix, then what follows the base path (nginx's {@code proxy_redirect default}).
 * The result is a relative reference, which RFC 9110 §10.2.2 allows and clients resolve against
 * the URL they asked for, so that it holds whatever scheme and host the client used. Any other
 * value goes on as it came, and so does one whose path has dot-segments, which could climb out
 * of the base path or the route's prefix.
 */
final class Redirects {
  private static final String URL_PARAMETER = "url=";

  private Redirects() {}

  /** Rewrites {@code fields}' Location and Refresh that name {@code to}'s endpoint. */
  static void rewrite(Headers received, Headers.Builder fields, Target to) {
    String location = received.first("Location").orElse(null);
    if (location != null) {
      String local = local(location.trim(), to);
      if (local != null) {
        fields.set("Location", local);
      }
    }
    String refresh = received.first("Refresh").orElse(null);
    if (refresh != null) {
      int url = refresh.toLowerCase(Locale.ROOT).indexOf(URL_PARAMETER);
      if (url >= 0) {
        int start = url + URL_PARAMETER.length();
        String target = refresh.substring(start).trim();
        boolean quoted = target.length() >= 2 && (target.charAt(0) == '"' || target.charAt(0) == '\'')
            && target.charAt(target.length() - 1) == target.charAt(0);
        String local = local(quoted ? target.substring(1, target.length() - 1) : target, to);
        if (local != null) {
          fields.set("Refresh", refresh.substring(0, start) + local);
        }
      }
    }
  }

  /**
   * The client's path for {@code url} if it is an absolute URL of {@code to}'s endpoint under its
   * base path; null otherwise.
   */
  static String local(String url, Target to) {
    Upstream.Endpoint endpoint = to.endpoint();
    String scheme = endpoint.scheme();
    if (!url.regionMatches(true, 0, scheme, 0, scheme.length())
        || !url.startsWith("://", scheme.length())) {
      return null;
    }
    int authorityStart = scheme.length() + 3;
    int pathStart = authorityStart;
    while (pathStart < url.length() && "/?#".indexOf(url.charAt(pathStart)) < 0) {
      pathStart++;
    }
    if (!sameEndpoint(url.substring(authorityStart, pathStart), endpoint)) {
      return null;
    }
    String rest = url.substring(pathStart);
    if (hasDotSegment(rest)) {
      // /app/../admin resolves outside the base path (RFC 3986 §5.2.4), and the prefix put before
      // it would be climbed out of the same way: such a value is not mapped (probe g28).
      return null;
    }
    String base = endpoint.basePath();
    if (!base.isEmpty()) {
      if (!rest.startsWith(base)
          || rest.length() > base.length() && "/?#".indexOf(rest.charAt(base.length())) < 0) {
        return null; // outside the base path: not a path the proxy maps to the client's
      }
      rest = rest.substring(base.length());
    }
    String local = to.strippedPrefix() + (rest.startsWith("/") ? rest : "/" + rest);
    return sameHost(local) ? local : null;
  }

  /**
   * Whether the path of {@code pathAndMore} (up to its query or fragment) has a {@code .} or
   * {@code ..} segment, also percent-encoded ({@code %2e}), which a client's resolution removes.
   */
  private static boolean hasDotSegment(String pathAndMore) {
    int end = 0;
    while (end < pathAndMore.length() && "?#".indexOf(pathAndMore.charAt(end)) < 0) {
      end++;
    }
    // Browsers read a backslash as a slash in http(s) paths (WHATWG URL): /app/..\admin climbs too.
    for (String segment : pathAndMore.substring(0, end).replace('\\', '/').split("/", -1)) {
      String decoded = segment.replaceAll("(?i)%2e", ".");
      if (decoded.equals(".") || decoded.equals("..")) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether {@code path} stays on the client's host when resolved: not {@code //evil.example/}
   * (a network-path reference, RFC 3986 §4.2) nor {@code /\evil.example/}, which browsers read
   * alike, also with tabs or other controls between, which URL parsers strip (probe v22). Such a
   * value goes on as the endpoint sent it, naming the endpoint: unreachable, never elsewhere.
   */
  private static boolean sameHost(String path) {
    for (int i = 0; i < path.length(); i++) {
      if (path.charAt(i) <= ' ' || path.charAt(i) == 0x7f) {
        return false;
      }
    }
    return path.length() < 2 || (path.charAt(1) != '/' && path.charAt(1) != '\\');
  }

  /** Whether {@code authority} (host, optional port, no userinfo) is {@code endpoint}'s. */
  private static boolean sameEndpoint(String authority, Upstream.Endpoint endpoint) {
    if (authority.isEmpty() || authority.indexOf('@') >= 0) {
      return false;
    }
    int close = authority.lastIndexOf(']');
    int colon = authority.lastIndexOf(':');
    String host = colon > close ? authority.substring(0, colon) : authority;
    String portText = colon > close ? authority.substring(colon + 1) : "";
    int port;
    if (portText.isEmpty()) {
      port = endpoint.scheme().equals("https") ? 443 : 80;
    } else if (portText.length() <= 5 && portText.chars().allMatch(c -> c >= '0' && c <= '9')) {
      port = Integer.parseInt(portText);
    } else {
      return false;
    }
    if (port != endpoint.port()) {
      return false;
    }
    try {
      return HostNames.normalise(host).equals(HostNames.normalise(endpoint.host()));
    } catch (HttpFailureException e) {
      return false;
    }
  }
}
