package dev.ferry.proxy.engine.upstream;

import dev.ferry.proxy.engine.http1.HttpFailureException;
import java.net.InetAddress;
import java.util.List;

/**
 * A rule about where the proxy may connect, consulted after DNS and before connecting, so that
 * it decides on the addresses actually connected to rather than on the request's text (a name
 * that resolves to a denied address is denied; there is no second lookup to rebind).
 *
 * <p>Filters in the engine register one for their exchange under the attribute key
 * {@code DestinationCheck.class}; a filter that finds one already there composes with
 * {@link #andThen}. The engine's own defaults (CONNECT ports, private destinations, loops back to
 * the proxy) run before any registered check.
 */
@FunctionalInterface
public interface DestinationCheck {

  /**
   * Throws to refuse the destination.
   *
   * @param host the normalised host: lower case, no trailing dot, IDN as ASCII, IP literals in
   *     canonical form (IPv6 without brackets)
   * @param port the destination port
   * @param addresses every address the host resolved to, in the order they will be tried
   * @param tunnel true for a CONNECT tunnel, false for a forwarded request
   * @throws HttpFailureException usually {@code DENIED} (403), naming the rule
   */
  void check(String host, int port, List<InetAddress> addresses, boolean tunnel)
      throws HttpFailureException;

  /**
   * The part of the check that needs no addresses, run before DNS, so that a destination
   * refused whatever it resolves to costs no lookup (nor a 502 for a name that does not
   * resolve). Nothing by default.
   *
   * @throws HttpFailureException as {@link #check}
   */
  default void checkUnresolved(String host, int port, boolean tunnel) throws HttpFailureException {}

  /** Returns a check that runs this one, then {@code next}. */
  default DestinationCheck andThen(DestinationCheck next) {
    DestinationCheck first = this;
    return new DestinationCheck() {
      @Override
      public void checkUnresolved(String host, int port, boolean tunnel) throws HttpFailureException {
        first.checkUnresolved(host, port, tunnel);
        next.checkUnresolved(host, port, tunnel);
      }

      @Override
      public void check(String host, int port, List<InetAddress> addresses, boolean tunnel)
          throws HttpFailureException {
        first.check(host, port, addresses, tunnel);
        next.check(host, port, addresses, tunnel);
      }
    };
  }
}
