package dev.ferry.proxy.engine.filter;

import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.upstream.HostNames;
import java.net.InetAddress;

/** An IPv4 or IPv6 address block such as {@code 10.0.0.0/8} or {@code ::1/128}. */
public final class AddressBlock {
  private final byte[] network;
  private final int prefixLength;

  private AddressBlock(byte[] network, int prefixLength) {
    this.network = network;
    this.prefixLength = prefixLength;
  }

  /**
   * Parses a block the API has already validated; a bare address is a single host.
   *
   * @throws IllegalArgumentException if it is not an IP literal with a valid prefix
   */
  public static AddressBlock parse(String text) {
    int slash = text.indexOf('/');
    String literal = slash < 0 ? text : text.substring(0, slash);
    InetAddress address;
    try {
      address = HostNames.literal(HostNames.normalise(literal)).orElse(null);
    } catch (HttpFailureException e) {
      address = null;
    }
    if (address == null) {
      throw new IllegalArgumentException("not an IP address block: " + text);
    }
    byte[] bytes = address.getAddress();
    int prefix = slash < 0 ? bytes.length * 8 : Integer.parseInt(text.substring(slash + 1));
    if (prefix < 0 || prefix > bytes.length * 8) {
      throw new IllegalArgumentException("prefix length out of range: " + text);
    }
    return new AddressBlock(bytes, prefix);
  }

  /** Whether {@code address} is in this block (an IPv4-mapped IPv6 address as its IPv4 one). */
  public boolean contains(InetAddress address) {
    byte[] candidate = comparable(address.getAddress());
    if (candidate == null) {
      return false;
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

  /**
   * The candidate in this block's family, or null. An IPv4-mapped IPv6 address (::ffff:a.b.c.d)
   * is the IPv4 address it carries; the JDK usually unwraps those already, raw bytes may not.
   */
  private byte[] comparable(byte[] candidate) {
    if (candidate.length == network.length) {
      return candidate;
    }
    if (candidate.length != 16) {
      return null;
    }
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
}
