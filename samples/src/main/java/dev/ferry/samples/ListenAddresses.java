package dev.ferry.samples;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;

/** Addresses the CLI is told to listen on: one of this host's, or the wildcard. */
final class ListenAddresses {
  private ListenAddresses() {}

  /**
   * Checks {@code host} before the proxy tries to bind it, so that a typo exits 2 naming the
   * option instead of a bind failure at start.
   *
   * @throws IllegalArgumentException naming {@code option} unless {@code host} resolves to the
   *     wildcard, a loopback address or an address of one of this host's interfaces
   */
  static void requireLocal(String option, String host) {
    InetAddress address;
    try {
      address = InetAddress.getByName(host);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(option + " must be an address of this host (was " + host
          + ": no such host)");
    }
    if (address.isAnyLocalAddress() || address.isLoopbackAddress()) {
      return;
    }
    try {
      if (NetworkInterface.getByInetAddress(address) != null) {
        return;
      }
    } catch (SocketException unknowable) {
      return; // the interfaces cannot be listed here: binding will tell
    }
    throw new IllegalArgumentException(option + " must be an address of this host (was " + host
        + ": no interface here has it)");
  }
}
