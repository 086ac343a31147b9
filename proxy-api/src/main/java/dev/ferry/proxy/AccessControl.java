package dev.ferry.proxy;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * An access policy: an ordered list of allow and deny rules on the client address, the
 * destination host, the method and the destination port. The first rule that matches decides;
 * when none does, the default applies (allow, unless {@link Builder#denyByDefault()}). A denied
 * request is answered 403 with a body naming the rule.
 *
 * <pre>{@code
 * Filter acl = Filters.accessControl()
 *     .denyHosts("*.ads.example", "169.254.0.0/16")
 *     .allowClients("10.0.0.0/8", "fd00::/8")
 *     .denyByDefault()
 *     .build();
 * }</pre>
 *
 * <p>Host rules decide on what the proxy actually connects to, not on how the request spells it:
 * <ul>
 *   <li>A name or glob ({@code localhost}, {@code *.example.com}) matches the normalised host:
 *       lower case, without a trailing dot, international names in their ASCII ({@code xn--})
 *       form as browsers and curl encode them ({@code straße} is {@code xn--strae-oqa}). Hosts that spell an IPv4 address in a legacy form ({@code 127.1},
 *       {@code 2130706433}, {@code 0177.0.0.1}) are refused with 400 before any rule runs.
 *   <li>An address or block ({@code 127.0.0.1}, {@code 10.0.0.0/8}, {@code ::1}) matches every
 *       address the host resolves to, checked after DNS and just before connecting, for
 *       forwarded requests and CONNECT tunnels alike: a name that resolves to a denied address is
 *       denied, and IPv4-mapped IPv6 forms are matched as the IPv4 address they carry. The
 *       unspecified address ({@code 0.0.0.0}, {@code ::}) reaches this host, so it also matches
 *       the blocks that hold the loopback address. When the verdict hangs on those addresses, a
 *       response from the cache is served only after the same check, so a hit skips no rule.
 * </ul>
 *
 * <p>In a reverse proxy the destination is the configured upstream, so host and port rules match
 * the {@code Host} the client asked for instead (an address rule only when that is an IP literal).
 * Client and method rules mean the same in both modes.
 *
 * <p>This is a configuration value; the engine supplies the behaviour.
 */
public final class AccessControl implements Filter {
  private final List<String> rules;
  private final boolean allowByDefault;
  private final Realised realised = new Realised(this);

  private AccessControl(Builder builder) {
    this.rules = List.copyOf(builder.rules);
    this.allowByDefault = builder.allowByDefault;
  }

  static Builder builder() {
    return new Builder();
  }

  /**
   * The rules in the order they are checked, each as text: a verdict, a kind and a value, such as
   * {@code allow client 10.0.0.0/8}, {@code deny host *.ads.example}, {@code deny host 127.0.0.0/8},
   * {@code allow method GET} or {@code deny port 25}. A 403 names the rule in this form.
   */
  public List<String> rules() {
    return rules;
  }

  /** Whether a request that no rule matched is allowed. */
  public boolean allowsByDefault() {
    return allowByDefault;
  }

  /** Runs the engine's implementation of this policy. */
  @Override
  public Response handle(Exchange exchange, Chain chain) throws IOException {
    return realised.handle(exchange, chain);
  }

  /** Lists the rules in order, with the default. */
  @Override
  public String toString() {
    return "AccessControl" + rules + (allowByDefault ? " else allow" : " else deny");
  }

  /**
   * A mutable builder of {@link AccessControl}; each rule method appends rules in order. Not
   * thread-safe.
   */
  public static final class Builder {
    private final List<String> rules = new ArrayList<>();
    private boolean allowByDefault = true;

    private Builder() {}

    /**
     * Allows clients in these address blocks ({@code 10.0.0.0/8}, {@code ::1/128}, or a bare
     * address; IPv4 in dotted decimal).
     *
     * @throws IllegalArgumentException if a block is not an IP literal with a valid prefix
     */
    public Builder allowClients(String... cidrs) {
      return clients("allow", cidrs);
    }

    /** Denies clients in these address blocks; see {@link #allowClients}. */
    public Builder denyClients(String... cidrs) {
      return clients("deny", cidrs);
    }

    /**
     * Allows destination hosts matching these names, globs or address blocks. A glob's
     * {@code *} matches any run of characters, so {@code *.example.com} matches every subdomain
     * of example.com (not example.com itself); names ignore case. A value made of digits and
     * dots, or holding a colon or a slash, is an address block, matched on the resolved
     * addresses; see the class comment.
     *
     * @throws IllegalArgumentException if a value is empty or holds whitespace, looks like an
     *     address block but is not a valid one, is a glob over addresses ({@code 127.0.0.*}: write
     *     {@code 127.0.0.0/24}), or ends in a number without being one (IPv4 must be dotted
     *     decimal: {@code 0x7f.0.0.1} is refused)
     */
    public Builder allowHosts(String... hosts) {
      return hosts("allow", hosts);
    }

    /** Denies destination hosts matching these names, globs or address blocks; see {@link #allowHosts}. */
    public Builder denyHosts(String... hosts) {
      return hosts("deny", hosts);
    }

    /**
     * Allows these request methods, compared ignoring case: methods are case-sensitive (RFC 9110
     * §9.1), but many servers upper-case them, so a rule for {@code DELETE} also covers
     * {@code delete}, which a deny rule must not let through.
     *
     * @throws IllegalArgumentException if a method is not an HTTP token
     */
    public Builder allowMethods(String... methods) {
      return methods("allow", methods);
    }

    /** Denies these request methods; see {@link #allowMethods}. */
    public Builder denyMethods(String... methods) {
      return methods("deny", methods);
    }

    /**
     * Allows these destination ports.
     *
     * @throws IllegalArgumentException unless each is between 1 and 65535
     */
    public Builder allowPorts(int... ports) {
      return ports("allow", ports);
    }

    /** Denies these destination ports; see {@link #allowPorts}. */
    public Builder denyPorts(int... ports) {
      return ports("deny", ports);
    }

    /** Denies requests no rule matched. The default is to allow them. */
    public Builder denyByDefault() {
      allowByDefault = false;
      return this;
    }

    /** Returns the policy. */
    public AccessControl build() {
      return new AccessControl(this);
    }

    private Builder clients(String verdict, String... cidrs) {
      for (String cidr : nonEmpty(cidrs, "cidrs")) {
        Cidr.check(cidr);
        rules.add(verdict + " client " + cidr);
      }
      return this;
    }

    private Builder hosts(String verdict, String... hosts) {
      for (String host : nonEmpty(hosts, "hosts")) {
        if (host.isEmpty() || host.chars().anyMatch(c -> Character.isWhitespace(c) || Character.isISOControl(c))) {
          throw new IllegalArgumentException(
              "host must be a name, a glob like *.example.com or an address block (was "
                + Checks.shown(host) + ")");
        }
        if (isAddressGlob(host)) {
          // A glob matches names as requests spell them; 127.0.0.* would miss every name that
          // resolves to 127.0.0.1, which an address block catches.
          throw new IllegalArgumentException("host " + host + " is a glob over addresses, which "
              + "would match only requests that spell the address: write an address block such as "
              + "127.0.0.0/8 or 169.254.0.0/16, matched on the resolved addresses");
        }
        if (Cidr.looksLikeBlock(host)) {
          Cidr.check(host);
        } else if (Authority.endsInNumber(host)) {
          // Requests spelling a host this way are refused 400, so such a rule could never match.
          throw new IllegalArgumentException("host " + host + " ends in a number, so it is an IPv4 "
              + "address in a legacy form (hex, octal or too few parts): write it in dotted decimal");
        }
        rules.add(verdict + " host " + host);
      }
      return this;
    }

    /** A glob made of address characters: {@code 127.0.0.*}, {@code 169.254.*}, {@code fe80:*}. */
    private static boolean isAddressGlob(String host) {
      if (host.indexOf('*') < 0) {
        return false;
      }
      boolean ipv4 = host.chars().anyMatch(c -> c >= '0' && c <= '9')
          && host.chars().allMatch(c -> c == '*' || c == '.' || (c >= '0' && c <= '9'));
      boolean ipv6 = host.indexOf(':') >= 0
          && host.chars().allMatch(c -> c == '*' || c == ':' || Character.digit(c, 16) >= 0);
      return ipv4 || ipv6;
    }

    /** Whether the last label is all digits or a {@code 0x} hex number, as in {@code 0x7f.0.0.1}. */
    private Builder methods(String verdict, String... methods) {
      for (String method : nonEmpty(methods, "methods")) {
        Request.builder().method(method);
        rules.add(verdict + " method " + method);
      }
      return this;
    }

    private Builder ports(String verdict, int... ports) {
      Objects.requireNonNull(ports, "ports");
      if (ports.length == 0) {
        throw new IllegalArgumentException("ports must name at least one value");
      }
      for (int port : ports) {
        if (port < 1 || port > 65535) {
          throw new IllegalArgumentException("port must be between 1 and 65535 (was " + port + ")");
        }
        rules.add(verdict + " port " + port);
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
  }
}
