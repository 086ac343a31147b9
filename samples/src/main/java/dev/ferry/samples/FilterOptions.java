package dev.ferry.samples;

import dev.ferry.proxy.AccessControl;
import dev.ferry.proxy.Filter;
import dev.ferry.proxy.Filters;
import dev.ferry.proxy.Headers;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.RateLimit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The CLI's access-control and filter flags. The access flags become one
 * {@link Filters#accessControl()} policy with a rule per flag, in the order given; the forward
 * proxy's destination flags map onto {@link ProxyServer.Builder} options; the rest map each onto
 * one {@link Filters} factory. Every value is checked when its flag is read, and a bad one is
 * reported with the flag's name.
 */
final class FilterOptions {
  /** Flags that take a value. */
  static final Set<String> FLAGS = Set.of("--allow-client", "--deny-client", "--allow-host",
      "--deny-host", "--allow-port", "--deny-port", "--allow-method", "--deny-method",
      "--allow-connect-port", "--auth", "--rate-limit", "--set-header");

  /** Flags without a value. */
  static final Set<String> SWITCHES = Set.of("--allow-private-destinations");

  /** The help text of these flags, a section of {@link CliOptions#USAGE}. */
  static final String USAGE = String.join("\n",
      "Access control (forward and reverse): rules are checked in the order given and the first",
      "that matches decides; when none does, the answer is the opposite of the last rule (as in",
      "Squid), so a list ending in --allow-* denies everything else. All are repeatable.",
      "      --allow-client CIDR      allow clients in this address block (10.0.0.0/8, ::1)",
      "      --deny-client CIDR       deny clients in this address block",
      "      --allow-host GLOB|CIDR   allow destinations: a name or glob (*.example.com), or an",
      "                               address block checked on every address the name resolves",
      "                               to (reverse proxy: the Host the client asked for)",
      "      --deny-host GLOB|CIDR    deny destinations, matched as for --allow-host",
      "      --allow-port N           allow destination port N",
      "      --deny-port N            deny destination port N",
      "      --allow-method M         allow request method M (CONNECT included)",
      "      --deny-method M          deny request method M",
      "Forward-proxy destinations:",
      "      --allow-connect-port N|any",
      "                               let CONNECT reach port N, or any port (default: 443 only);",
      "                               repeatable",
      "      --allow-private-destinations",
      "                               when bound to a non-loopback address, still allow loopback,",
      "                               link-local and unspecified destinations (default: denied;",
      "                               always allowed when bound to loopback)",
      "Filters (after access control, in this order: rate limit, authentication, headers):",
      "      --rate-limit N/s[:BURST] requests per second per client address (burst default 2N),",
      "                               failed logins included",
      "      --auth USER:PASS         require Proxy-Authorization (forward) or Authorization",
      "                               (reverse) Basic credentials; repeatable, once per user",
      "      --set-header NAME:VALUE  set a request header; repeatable (not Host, Content-Length",
      "                               or a hop-by-hop header such as Connection)");

  /**
   * Headers the proxy itself owns: Host and the message framing, and the hop-by-hop fields of
   * RFC 9110 §7.6.1 (plus Trailer, hop-by-hop in RFC 2616 §13.5.1). Setting them would either be
   * dropped silently or break the message.
   */

  private final AccessControl.Builder acl = Filters.accessControl();
  private boolean hasAccessRules;
  private boolean lastRuleAllows;
  private final List<Integer> connectPorts = new ArrayList<>();
  private boolean anyConnectPort;
  private boolean allowPrivateDestinations;
  private final Map<String, String> credentials = new LinkedHashMap<>();
  private final List<Filter> setHeaders = new ArrayList<>();
  private final Set<String> headerNames = new HashSet<>();
  private RateLimit rateLimit;
  /** Whether {@link #rateLimit} came from the config file, for the message refusing a second. */
  private boolean rateLimitInFile;

  /** The config file's filters are in: what comes next is the flags'. */
  void fileRead() {
    rateLimitInFile = rateLimit != null;
  }

  /**
   * Reads one flag of {@link #FLAGS} with its value.
   *
   * @throws IllegalArgumentException naming the flag and what to fix
   */
  void add(String flag, String value) {
    try {
      switch (flag) {
        case "--allow-client" -> {
          acl.allowClients(value);
          ruleAdded(true);
        }
        case "--deny-client" -> {
          acl.denyClients(value);
          ruleAdded(false);
        }
        case "--allow-host" -> {
          acl.allowHosts(value);
          ruleAdded(true);
        }
        case "--deny-host" -> {
          acl.denyHosts(value);
          ruleAdded(false);
        }
        case "--allow-port" -> {
          acl.allowPorts(port(flag, value));
          ruleAdded(true);
        }
        case "--deny-port" -> {
          acl.denyPorts(port(flag, value));
          ruleAdded(false);
        }
        case "--allow-method" -> {
          acl.allowMethods(method(flag, value));
          ruleAdded(true);
        }
        case "--deny-method" -> {
          acl.denyMethods(method(flag, value));
          ruleAdded(false);
        }
        case "--allow-connect-port" -> connectPort(value);
        case "--auth" -> credential(value);
        case "--rate-limit" -> {
          if (rateLimit != null) {
            // Given once as a flag beside the file's, "only once" read as if it were not (probe readmecli F2).
            throw new IllegalArgumentException(rateLimitInFile
                ? "--rate-limit: the config file's filters have a rate-limit already; give one, in the "
                    + "file or as the flag"
                : "--rate-limit may be given only once");
          }
          rateLimit = rateLimit(value);
        }
        case "--set-header" -> setHeader(value);
        default -> throw new IllegalArgumentException("unknown option " + flag);
      }
    } catch (IllegalArgumentException e) {
      throw e.getMessage().startsWith(flag) || e.getMessage().startsWith("unknown option")
          ? e : new IllegalArgumentException(flag + ": " + e.getMessage(), e);
    }
  }

  /**
   * Reads one flag of {@link #SWITCHES}.
   *
   * @throws IllegalArgumentException if it is not one
   */
  void add(String flag) {
    if (!flag.equals("--allow-private-destinations")) {
      throw new IllegalArgumentException("unknown option " + flag);
    }
    allowPrivateDestinations = true;
  }

  /** Adds the filters (access control first, header changes last) and destination options. */
  void applyTo(ProxyServer.Builder builder, boolean reverse) {
    if (reverse && (anyConnectPort || !connectPorts.isEmpty() || allowPrivateDestinations)) {
      throw new IllegalArgumentException((allowPrivateDestinations ? "--allow-private-destinations"
          : "--allow-connect-port") + " is for a forward proxy (a reverse proxy reaches only its "
          + "upstreams); remove it or --upstream, --route and the config file's pools");
    }
    if (hasAccessRules) {
      if (lastRuleAllows) {
        acl.denyByDefault();
      }
      builder.filter(acl.build());
    }
    if (anyConnectPort) {
      builder.allowAnyConnectPort();
    }
    connectPorts.forEach(builder::allowConnectPorts);
    if (allowPrivateDestinations) {
      builder.allowPrivateDestinations(true);
    }
    // The limit before the password check, as nginx's limit_req runs before auth_basic: every
    // request from an address counts, so a wrong password is no free guess (probe acl1).
    if (rateLimit != null) {
      builder.filter(rateLimit);
    }
    if (!credentials.isEmpty()) {
      builder.filter((reverse ? Filters.authentication() : Filters.proxyAuthentication())
          .credentials(credentials).build());
    }
    setHeaders.forEach(builder::filter);
  }

  /** Notes the verdict of the rule just added: the policy's default is its opposite. */
  private void ruleAdded(boolean allow) {
    hasAccessRules = true;
    lastRuleAllows = allow;
  }

  /** Methods are case-sensitive (RFC 9110 §9.1): {@code get} is not GET, and surely a slip. */
  private static String method(String flag, String value) {
    if (!value.equals(value.toUpperCase(Locale.ROOT))) {
      throw new IllegalArgumentException(flag + ": methods are case-sensitive; did you mean "
          + value.toUpperCase(Locale.ROOT) + "? (was " + value + ")");
    }
    return value;
  }

  private static int port(String flag, String value) {
    try {
      return Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + " must be a port number (was " + value + ")");
    }
  }

  private void connectPort(String value) {
    boolean any = value.equalsIgnoreCase("any");
    if (any ? !connectPorts.isEmpty() : anyConnectPort) {
      throw new IllegalArgumentException("--allow-connect-port any and --allow-connect-port N contradict"
          + " each other: any already lets CONNECT reach every port; keep one");
    }
    if (any) {
      anyConnectPort = true;
      return;
    }
    int port = port("--allow-connect-port", value);
    ProxyServer.builder().allowConnectPorts(port); // the builder's range check, now
    connectPorts.add(port);
  }

  /** A USER:PASSWORD pair; the value is never echoed in a message, as it holds a password. */
  private void credential(String value) {
    int colon = value.indexOf(':');
    if (colon <= 0 || colon == value.length() - 1) {
      throw new IllegalArgumentException("--auth must be USER:PASSWORD, both non-empty");
    }
    String user = value.substring(0, colon);
    if (credentials.putIfAbsent(user, value.substring(colon + 1)) != null) {
      throw new IllegalArgumentException("--auth: user " + user + " given twice (one password each)");
    }
  }

  private void setHeader(String value) {
    int colon = value.indexOf(':');
    // The value is never shown: it is often a credential (an Authorization or an API key).
    if (colon <= 0) {
      throw new IllegalArgumentException("--set-header must be NAME:VALUE, like 'X-Api-Key: ...' "
          + "(the argument has no colon after a name; it is not shown, as it may hold a secret)");
    }
    String name = value.substring(0, colon).trim();
    if (Headers.isProxyManaged(name)) {
      throw new IllegalArgumentException("--set-header cannot set " + name
          + ": the proxy manages Host, message framing and hop-by-hop headers");
    }
    if (name.equalsIgnoreCase("Expect")) {
      throw new IllegalArgumentException("--set-header cannot set Expect: the proxy answers "
          + "Expect: 100-continue itself and sends no Expect upstream");
    }
    // Compared as CGI, PHP and WSGI backends read them: X_Tenant and X-Tenant are one variable.
    if (!headerNames.add(name.toLowerCase(Locale.ROOT).replace('_', '-'))) {
      throw new IllegalArgumentException("--set-header: " + name + " given twice (a header is set "
          + "to one value, and backends read _ as -; the first would be lost)");
    }
    setHeaders.add(Filters.setRequestHeader(name, value.substring(colon + 1).trim()));
  }

  /**
   * Refuses a {@code --set-header} of the request ID header: the upstream would get the set
   * value while the client and the log got the request's own ID, and no line of the proxy's log
   * would match one of the backend's (probe d25).
   *
   * @throws IllegalArgumentException naming both flags
   */
  void checkNotSetting(String requestIdHeader) {
    // Backends read X_Request_Id as the dashed name (CGI, PHP, WSGI): compared so (probe v29).
    String id = requestIdHeader.toLowerCase(Locale.ROOT).replace('_', '-');
    if (headerNames.contains(id)) {
      throw new IllegalArgumentException("--set-header " + requestIdHeader + " would send one ID upstream "
          + "while the client and the log get each request's own: it is the request ID header (set with "
          + "--request-id-header, X-Request-Id by default); drop it, or name another request ID header");
    }
  }

  private static RateLimit rateLimit(String spec) {
    String hint = "--rate-limit must be N/s or N/s:BURST, like 10/s:20 (was " + spec + ")";
    String[] parts = spec.split(":", -1);
    if (parts.length > 2 || !parts[0].endsWith("/s")) {
      throw new IllegalArgumentException(hint);
    }
    try {
      double perSecond = Double.parseDouble(parts[0].substring(0, parts[0].length() - 2));
      int burst = parts.length == 2 ? Integer.parseInt(parts[1]) : (int) Math.max(1, Math.ceil(perSecond * 2));
      return Filters.rateLimit().perSecond(perSecond).burst(burst).build();
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(hint);
    }
  }
}
