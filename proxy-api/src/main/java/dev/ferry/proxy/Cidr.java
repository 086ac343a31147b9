package dev.ferry.proxy;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** An IPv4 or IPv6 address block such as {@code 10.0.0.0/8} or {@code ::1/128}. */
final class Cidr {
  private final byte[] network;
  private final int prefixLength;
  private final String text;

  private Cidr(byte[] network, int prefixLength, String text) {
    this.network = network;
    this.prefixLength = prefixLength;
    this.text = text;
  }

  /**
   * Parses a block; a bare address means a single host.
   *
   * @throws IllegalArgumentException if it is not an IP literal with a valid prefix length
   */
  static Cidr parse(String text) {
    int slash = text.indexOf('/');
    String address = slash < 0 ? text : text.substring(0, slash);
    if (address.isEmpty() || !(address.indexOf(':') >= 0 || Character.isDigit(address.charAt(0)))) {
      throw new IllegalArgumentException("CIDR must be an IP address block like 10.0.0.0/8 (was " + text + ")");
    }
    byte[] bytes;
    try {
      bytes = InetAddress.getByName(address).getAddress();
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("CIDR must be an IP address block like 10.0.0.0/8 (was " + text + ")");
    }
    int max = bytes.length * 8;
    int prefix;
    try {
      prefix = slash < 0 ? max : Integer.parseInt(text.substring(slash + 1));
    } catch (NumberFormatException e) {
      prefix = -1;
    }
    if (prefix < 0 || prefix > max) {
      throw new IllegalArgumentException(
          "CIDR prefix length must be between 0 and " + max + " (was " + text + ")");
    }
    return new Cidr(bytes, prefix, text);
  }

  boolean contains(InetAddress address) {
    byte[] candidate = address.getAddress();
    if (candidate.length != network.length) {
      candidate = mapped(candidate, network.length);
      if (candidate == null) {
        return false;
      }
    }
    int full = prefixLength / 8;
    for (int i = 0; i < full; i++) {
      if (candidate[i] != network[i]) {
        return false;
      }
    }
    int rest = prefixLength % 8;
    if (rest == 0) {
      return true;
    }
    int mask = (0xff << (8 - rest)) & 0xff;
    return (candidate[full] & mask) == (network[full] & mask);
  }

  /** Compares an IPv4-mapped IPv6 address (::ffff:a.b.c.d) with an IPv4 block, and back. */
  private static byte[] mapped(byte[] candidate, int length) {
    if (candidate.length == 16 && length == 4) {
      for (int i = 0; i < 10; i++) {
        if (candidate[i] != 0) {
          return null;
        }
      }
      if ((candidate[10] & 0xff) != 0xff || (candidate[11] & 0xff) != 0xff) {
        return null;
      }
      return new byte[] {candidate[12], candidate[13], candidate[14], candidate[15]};
    }
    return null;
  }

  @Override
  public String toString() {
    return text;
  }
}
