package dev.ferry.proxy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Allows or denies requests by client address, destination host, method and destination port.
 * Rules are checked in the order they were added and the first that matches decides; when none
 * matches, the default applies (allow, unless {@link Builder#denyByDefault()}). A denied request
 * is answered 403 with a body naming the rule.
 *
 * <pre>{@code
 * Filter acl = Filters.accessControl()
 *     .denyHosts("*.ads.example")
 *     .allowClients("10.0.0.0/8", "fd00::/8")
 *     .denyByDefault()
 *     .build();
 * }</pre>
 *
 * <p>It also refuses, by default, forward requests whose destination is the proxy's own
 * listener, which would otherwise loop through the proxy until it runs out of connections.
 */
public final class AccessControl implements Filter {
  private final List<Rule> rules;
  private final boolean allowByDefault;
  private final boolean allowLoops;

  private AccessControl(Builder builder) {
    this.rules = List.copyOf(builder.rules);
    this.allowByDefault = builder.allowByDefault;
    this.allowLoops = builder.allowLoops;
  }

  static Builder builder() {
    return new Builder();
  }

  @Override
  public Response handle(Exchange exchange, Chain chain) throws IOException {
    Request request = exchange.request();
    if (!allowLoops && targetsSelf(exchange, request)) {
      return Response.text(403, "Denied: the request targets this proxy itself (loop)\n");
    }
    for (Rule rule : rules) {
      if (rule.matches.test(exchange)) {
        return rule.allow ? chain.proceed(request) : Response.text(403, "Denied by rule: " + rule.text + "\n");
      }
    }
    return allowByDefault ? chain.proceed(request) : Response.text(403, "Denied by default rule\n");
  }

  private static boolean targetsSelf(Exchange exchange, Request request) {
    if (request.port() != exchange.localAddress().getPort()) {
      return false;
    }
    try {
      for (InetAddress address : InetAddress.getAllByName(request.host())) {
        if (address.isLoopbackAddress() || address.isAnyLocalAddress()
            || address.equals(exchange.localAddress().getAddress())
            || NetworkInterface.getByInetAddress(address) != null) {
          return true;
        }
      }
    } catch (UnknownHostException | SocketException e) {
      return false;
    }
    return false;
  }

  /** Lists the rules in order, with the default. */
  @Override
  public String toString() {
    List<String> texts = new ArrayList<>();
    rules.forEach(rule -> texts.add(rule.text));
    return "AccessControl" + texts + (allowByDefault ? " else allow" : " else deny");
  }

  private static final class Rule {
    final boolean allow;
    final String text;
    final Predicate<Exchange> matches;

    Rule(boolean allow, String text, Predicate<Exchange> matches) {
      this.allow = allow;
      this.text = (allow ? "allow " : "deny ") + text;
      this.matches = matches;
    }
  }

  /**
   * A mutable builder of {@link AccessControl}; each rule method appends rules in order. Not
   * thread-safe.
   */
  public static final class Builder {
    private final List<Rule> rules = new ArrayList<>();
    private boolean allowByDefault = true;
    private boolean allowLoops;

    private Builder() {}

    /**
     * Allows clients in these address blocks ({@code 10.0.0.0/8}, {@code ::1/128}, or a bare
     * address).
     *
     * @throws IllegalArgumentException if a block is not an IP literal with a valid prefix
     */
    public Builder allowClients(String... cidrs) {
      return clients(true, cidrs);
    }

    /** Denies clients in these address blocks; see {@link #allowClients}. */
    public Builder denyClients(String... cidrs) {
      return clients(false, cidrs);
    }

    /**
     * Allows destination hosts matching these names or globs: {@code *.example.com} matches
     * any subdomain of example.com (not example.com itself); matching ignores case.
     *
     * @throws IllegalArgumentException if a pattern is empty or holds whitespace
     */
    public Builder allowHosts(String... globs) {
      return hosts(true, globs);
    }

    /** Denies destination hosts matching these names or globs; see {@link #allowHosts}. */
    public Builder denyHosts(String... globs) {
      return hosts(false, globs);
    }

    /** Allows these request methods (case-sensitive, as methods are). */
    public Builder allowMethods(String... methods) {
      return methods(true, methods);
    }

    /** Denies these request methods. */
    public Builder denyMethods(String... methods) {
      return methods(false, methods);
    }

    /**
     * Allows these destination ports.
     *
     * @throws IllegalArgumentException unless each is between 1 and 65535
     */
    public Builder allowPorts(int... ports) {
      return ports(true, ports);
    }

    /** Denies these destination ports; see {@link #allowPorts}. */
    public Builder denyPorts(int... ports) {
      return ports(false, ports);
    }

    /** Denies requests no rule matched. The default is to allow them. */
    public Builder denyByDefault() {
      allowByDefault = false;
      return this;
    }

    /** Allows forward requests to the proxy's own listener. Off by default: they loop. */
    public Builder allowLoops() {
      allowLoops = true;
      return this;
    }

    /** Returns the filter. */
    public AccessControl build() {
      return new AccessControl(this);
    }

    private Builder clients(boolean allow, String... cidrs) {
      for (String text : nonEmpty(cidrs, "cidrs")) {
        Cidr cidr = Cidr.parse(text);
        rules.add(new Rule(allow, "client " + cidr, e -> cidr.contains(e.clientAddress().getAddress())));
      }
      return this;
    }

    private Builder hosts(boolean allow, String... globs) {
      for (String glob : nonEmpty(globs, "globs")) {
        if (glob.isEmpty() || glob.chars().anyMatch(Character::isWhitespace)) {
          throw new IllegalArgumentException("host glob must be a name like *.example.com (was " + glob + ")");
        }
        Pattern pattern = globPattern(glob);
        rules.add(new Rule(allow, "host " + glob,
            e -> pattern.matcher(e.request().host().toLowerCase(Locale.ROOT)).matches()));
      }
      return this;
    }

    private Builder methods(boolean allow, String... methods) {
      for (String method : nonEmpty(methods, "methods")) {
        Request.builder().method(method);
        rules.add(new Rule(allow, "method " + method, e -> e.request().method().equals(method)));
      }
      return this;
    }

    private Builder ports(boolean allow, int... ports) {
      Objects.requireNonNull(ports, "ports");
      for (int port : ports) {
        if (port < 1 || port > 65535) {
          throw new IllegalArgumentException("port must be between 1 and 65535 (was " + port + ")");
        }
        rules.add(new Rule(allow, "port " + port, e -> e.request().port() == port));
      }
      return this;
    }

    private static String[] nonEmpty(String[] values, String name) {
      Objects.requireNonNull(values, name);
      if (values.length == 0) {
        throw new IllegalArgumentException(name + " must name at least one value");
      }
      for (String value : values) {
        Objects.requireNonNull(value, name);
      }
      return values;
    }

    private static Pattern globPattern(String glob) {
      StringBuilder regex = new StringBuilder();
      for (String part : glob.toLowerCase(Locale.ROOT).split("\\*", -1)) {
        if (regex.length() > 0) {
          regex.append("[^/]*");
        }
        regex.append(Pattern.quote(part));
      }
      return Pattern.compile(regex.toString());
    }
  }
}
