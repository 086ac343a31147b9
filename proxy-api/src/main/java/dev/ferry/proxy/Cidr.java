package dev.ferry.proxy;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Validation of IP address blocks ({@code 10.0.0.0/8}, {@code ::1/128}, a bare address) in rule
 * options. Matching lives in the engine; this only makes sure a bad block fails in its setter.
 */
final class Cidr {
  private Cidr() {}

  /**
   * Whether {@code text} is meant as an address block rather than a host name: it has a prefix
   * length, a colon or brackets, or consists of digits and dots only.
   */
  static boolean looksLikeBlock(String text) {
    return text.indexOf('/') >= 0 || text.indexOf(':') >= 0 || text.startsWith("[")
        || (!text.isEmpty() && text.chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9')));
  }

  /**
   * Checks a block: IPv4 in plain dotted decimal, IPv6 in any valid form, and a prefix length
   * that fits the address.
   *
   * @throws IllegalArgumentException naming what is wrong
   */
  static void check(String text) {
    int slash = text.indexOf('/');
    String address = slash < 0 ? text : text.substring(0, slash);
    if (address.startsWith("[") && address.endsWith("]") && address.length() > 2) {
      address = address.substring(1, address.length() - 1);
    }
    int bits = address.indexOf(':') >= 0 ? ipv6Bits(address, text) : ipv4Bits(address, text);
    if (slash < 0) {
      return;
    }
    String digits = text.substring(slash + 1);
    int prefix = digits.isEmpty() || digits.length() > 3 || !digits.chars().allMatch(Character::isDigit)
        ? -1 : Integer.parseInt(digits);
    if (prefix < 0 || prefix > bits) {
      throw new IllegalArgumentException(
          "CIDR prefix length must be between 0 and " + bits + " (was " + Checks.shown(text) + ")");
    }
  }

  private static int ipv4Bits(String address, String text) {
    String[] parts = address.split("\\.", -1);
    boolean valid = parts.length == 4;
    for (int i = 0; valid && i < 4; i++) {
      String part = parts[i];
      valid = !part.isEmpty() && part.length() <= 3 && part.chars().allMatch(c -> c >= '0' && c <= '9')
          && (part.length() == 1 || part.charAt(0) != '0') && Integer.parseInt(part) <= 255;
    }
    if (!valid) {
      throw new IllegalArgumentException("CIDR must be an IP address block like 10.0.0.0/8, with "
          + "IPv4 in dotted decimal (was " + Checks.shown(text) + ")");
    }
    return 32;
  }

  private static int ipv6Bits(String address, String text) {
    boolean valid = address.chars().allMatch(c -> c == ':' || c == '.' || Character.digit(c, 16) >= 0);
    boolean mapped = false;
    if (valid) {
      try {
        // Hex digits, colons and dots only: parsed as a literal, never looked up.
        mapped = InetAddress.getByName(address) instanceof Inet4Address;
      } catch (UnknownHostException e) {
        valid = false;
      }
    }
    if (mapped) {
      // The JDK reads ::ffff:a.b.c.d as the IPv4 address itself, and so are clients' mapped
      // addresses read: an IPv4 block covers them. The message asked for dotted decimal, the
      // very form it refused (probe a24).
      throw new IllegalArgumentException("CIDR " + Checks.shown(text) + " is an IPv4-mapped block: write it as "
          + "IPv4 (10.0.0.0/8), which also matches clients and destinations in IPv4-mapped form");
    }
    if (!valid) {
      throw new IllegalArgumentException("CIDR must be an IP address block like fd00::/8 (was "
          + Checks.shown(text) + ")");
    }
    return 128;
  }
}
