package dev.ferry.proxy.engine.admin;

import dev.ferry.proxy.Headers;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.Response;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Refuses admin requests that a web page in the operator's browser could have made: the admin
 * endpoints have no authentication, and a page can post a form to {@code 127.0.0.1} (cross-site
 * request forgery) or have its own name resolve there (DNS rebinding). A request is refused when
 * it names another site in {@code Origin} or {@code Sec-Fetch-Site}, and, for a listener bound to
 * loopback, when its {@code Host} is a name this machine does not give itself: a rebinding page
 * reaches the listener under the attacker's name (its requests look same-origin to the browser,
 * so only the Host tells), while curl and scrapers on this machine use an address,
 * {@code localhost} (and its distributions' aliases) or the machine's host name. Clients that
 * send no {@code Origin} or {@code Sec-Fetch-Site} and name the listener so are never refused.
 */
public final class CrossSiteGuard {
  /** Names of this machine's loopback interface in common /etc/hosts files. */
  private static final Set<String> LOCAL_NAMES = Set.of("localhost", "localhost.localdomain",
      "ip6-localhost", "ip6-loopback");

  private CrossSiteGuard() {}

  /**
   * The 403 for {@code request}, or empty if it may be answered.
   *
   * @param loopbackListener the request came to a listener bound to a loopback address, whose
   *     legitimate clients name it by address or {@code localhost}
   */
  public static Optional<Response> refusal(Request request, boolean loopbackListener) {
    Headers headers = request.headers();
    String host = headers.first("Host").map(String::trim).orElse("");
    String site = headers.first("Sec-Fetch-Site").map(v -> v.trim().toLowerCase(Locale.ROOT)).orElse("");
    if (site.equals("cross-site") || site.equals("same-site")) {
      return Optional.of(forbidden("the request came from another site (Sec-Fetch-Site: " + site + ")"));
    }
    Optional<String> origin = headers.first("Origin").map(String::trim);
    if (origin.isPresent() && !authority(origin.get()).equalsIgnoreCase(host)) {
      return Optional.of(forbidden("the request came from another origin"));
    }
    if (loopbackListener && !host.isEmpty() && !isLocalName(hostName(host))) {
      return Optional.of(forbidden("a loopback admin listener answers requests for an IP address"
          + " or localhost, not another name"));
    }
    return Optional.empty();
  }

  private static Response forbidden(String why) {
    return Response.text(403, "Forbidden: " + why + "\n");
  }

  /** The authority of an Origin ({@code scheme://host[:port]}); empty for {@code null} or junk. */
  private static String authority(String origin) {
    int scheme = origin.indexOf("://");
    return scheme < 0 ? "" : origin.substring(scheme + 3);
  }

  /** The host of a Host field value, without its port (an IPv6 literal keeps its brackets). */
  private static String hostName(String host) {
    if (host.startsWith("[")) {
      int end = host.indexOf(']');
      return end < 0 ? host : host.substring(0, end + 1);
    }
    int colon = host.lastIndexOf(':');
    return colon < 0 ? host : host.substring(0, colon);
  }

  private static boolean isLocalName(String name) {
    String lower = name.toLowerCase(Locale.ROOT);
    return LOCAL_NAMES.contains(lower) || lower.endsWith(".localhost") || lower.startsWith("[")
        || lower.chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9'))
        || lower.equals(HostName.VALUE);
  }

  /** The machine's own name (Debian maps it to 127.0.1.1), looked up once, when first needed. */
  private static final class HostName {
    static final String VALUE = lookUp();

    private static String lookUp() {
      try {
        return InetAddress.getLocalHost().getHostName().toLowerCase(Locale.ROOT);
      } catch (UnknownHostException | SecurityException e) {
        return "localhost";
      }
    }
  }
}
