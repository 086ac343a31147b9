package dev.ferry.proxy.engine.upstream;

import java.net.Inet6Address;
import java.net.InetAddress;

/**
 * An address as forwarding headers carry it: IPv6 in its RFC 5952 canonical text ({@code ::1},
 * not Java's {@code 0:0:0:0:0:0:0:1}), as nginx and Envoy write it, so an upstream's allow-list
 * or log search for {@code ::1} matches; no zone id.
 */
final class AddressText {
  private AddressText() {}

  static String of(InetAddress address) {
    if (!(address instanceof Inet6Address)) {
      return address.getHostAddress();
    }
    byte[] bytes = address.getAddress();
    int[] groups = new int[8];
    for (int i = 0; i < 8; i++) {
      groups[i] = ((bytes[2 * i] & 0xff) << 8) | (bytes[2 * i + 1] & 0xff);
    }
    // RFC 5952 §4.2: the longest run of two or more zero groups (the first of equals) is "::".
    int runStart = -1;
    int runLength = 1;
    for (int i = 0; i < 8; i++) {
      int j = i;
      while (j < 8 && groups[j] == 0) {
        j++;
      }
      if (j - i > runLength) {
        runStart = i;
        runLength = j - i;
      }
      i = Math.max(i, j);
    }
    StringBuilder text = new StringBuilder(39);
    for (int i = 0; i < 8; i++) {
      if (i == runStart) {
        text.append("::");
        i += runLength - 1;
        continue;
      }
      if (text.length() > 0 && text.charAt(text.length() - 1) != ':') {
        text.append(':');
      }
      text.append(Integer.toHexString(groups[i]));
    }
    return text.toString();
  }
}
