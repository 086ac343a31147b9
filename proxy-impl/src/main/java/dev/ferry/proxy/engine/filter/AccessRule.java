package dev.ferry.proxy.engine.filter;

import dev.ferry.proxy.engine.upstream.Idna;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * One rule of an access policy, parsed from the API's text form ({@code deny host *.example}):
 * a verdict, a kind and a value.
 */
final class AccessRule {
  private static final InetAddress LOOPBACK_V4 = loopback(new byte[] {127, 0, 0, 1});
  private static final InetAddress LOOPBACK_V6 =
      loopback(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});

  /** Whether a rule applies to a target; UNKNOWN until the destination address is known. */
  enum Match { YES, NO, UNKNOWN }

  private enum Kind { CLIENT, NAME, ADDRESS, METHOD, PORT }

  private final boolean allow;
  private final String text;
  private final Kind kind;
  private final AddressBlock block;
  private final Pattern glob;
  private final String method;
  private final int port;

  private AccessRule(boolean allow, String text, Kind kind, AddressBlock block, Pattern glob,
      String method, int port) {
    this.allow = allow;
    this.text = text;
    this.kind = kind;
    this.block = block;
    this.glob = glob;
    this.method = method;
    this.port = port;
  }

  /** Parses {@code allow|deny client|host|method|port VALUE}, already validated by the API. */
  static AccessRule parse(String text) {
    String[] parts = text.split(" ", 3);
    if (parts.length != 3 || !(parts[0].equals("allow") || parts[0].equals("deny"))) {
      throw new IllegalArgumentException("not an access rule: " + text);
    }
    boolean allow = parts[0].equals("allow");
    String value = parts[2];
    return switch (parts[1]) {
      case "client" -> new AccessRule(allow, text, Kind.CLIENT, AddressBlock.parse(value), null, null, 0);
      case "host" -> isBlock(value)
          ? new AccessRule(allow, text, Kind.ADDRESS, AddressBlock.parse(value), null, null, 0)
          : new AccessRule(allow, text, Kind.NAME, null, glob(value), null, 0);
      case "method" -> new AccessRule(allow, text, Kind.METHOD, null, null, value, 0);
      case "port" -> new AccessRule(allow, text, Kind.PORT, null, null, null, Integer.parseInt(value));
      default -> throw new IllegalArgumentException("not an access rule: " + text);
    };
  }

  boolean allows() {
    return allow;
  }

  /** Whether the rule looks at the destination (host, address or port). */
  boolean readsDestination() {
    return kind == Kind.NAME || kind == Kind.ADDRESS || kind == Kind.PORT;
  }

  boolean readsMethod() {
    return kind == Kind.METHOD;
  }

  Match match(AccessTarget target) {
    return switch (kind) {
      case CLIENT -> of(block.contains(target.client()));
      case NAME -> of(glob.matcher(target.host()).matches());
      case ADDRESS -> target.address() == null
          ? (target.resolvesLater() ? Match.UNKNOWN : Match.NO)
          : of(block.contains(target.address()) || reachesLoopback(target.address()));
      // Methods are case-sensitive, but many servers upper-case them: a deny rule for DELETE
      // that let "delete" through would be a rule a client steps around. An allow rule names
      // exactly what it lets through: "get" is no GET it allowed (probe a24), and went upstream
      // as "get" to servers that take it for GET or send it to a catch-all.
      case METHOD -> of(allow ? target.method().equals(method) : target.method().equalsIgnoreCase(method));
      case PORT -> of(target.port() == port);
    };
  }

  /** Connecting to the unspecified address (0.0.0.0, ::) reaches this host over loopback. */
  private boolean reachesLoopback(InetAddress address) {
    if (!address.isAnyLocalAddress()) {
      return false;
    }
    return block.contains(address instanceof Inet4Address ? LOOPBACK_V4 : LOOPBACK_V6);
  }

  private static Match of(boolean matches) {
    return matches ? Match.YES : Match.NO;
  }

  /** Same test as the API's: digits and dots only, or a colon, slash or bracket. */
  private static boolean isBlock(String value) {
    return value.indexOf('/') >= 0 || value.indexOf(':') >= 0 || value.startsWith("[")
        || value.chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9'));
  }

  /** A host glob in the normalised spelling hosts are compared in; {@code *} matches any run. */
  private static Pattern glob(String value) {
    String name = value.toLowerCase(Locale.ROOT);
    if (name.endsWith(".")) {
      name = name.substring(0, name.length() - 1);
    }
    StringBuilder regex = new StringBuilder();
    for (String label : name.split("\\.", -1)) {
      if (regex.length() > 0) {
        regex.append("\\.");
      }
      StringBuilder part = new StringBuilder();
      for (String piece : ascii(label).split("\\*", -1)) {
        if (part.length() > 0) {
          part.append(".*");
        }
        part.append(Pattern.quote(piece));
      }
      regex.append(part);
    }
    return Pattern.compile(regex.toString());
  }

  private static String ascii(String label) {
    if (label.chars().allMatch(c -> c < 0x80)) {
      return label;
    }
    try {
      return Idna.toAscii(label);
    } catch (IllegalArgumentException e) {
      return label; // cannot match any normalised host, which is all ASCII
    }
  }

  private static InetAddress loopback(byte[] bytes) {
    try {
      return InetAddress.getByAddress(bytes);
    } catch (UnknownHostException e) {
      throw new AssertionError(e);
    }
  }

  @Override
  public String toString() {
    return text;
  }
}
