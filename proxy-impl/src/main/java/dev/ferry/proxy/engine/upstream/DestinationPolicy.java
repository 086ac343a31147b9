package dev.ferry.proxy.engine.upstream;

import dev.ferry.proxy.ProxyConfig;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.LogValues;
import dev.ferry.proxy.engine.http1.ProxyFailure;
import dev.ferry.proxy.engine.LeveledLog;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * The engine's own rules about where a forward proxy may connect, applied before any filter's
 * {@link DestinationCheck}, after DNS, on every resolved address (Squid's shipped defaults are the
 * model: CONNECT only to SSL ports, no {@code to_localhost}):
 *
 * <ul>
 *   <li>CONNECT only to the allowed ports (443 unless configured);
 *   <li>when the listener is bound to a non-loopback address, no loopback, link-local (the cloud
 *       metadata address 169.254.169.254 among them) or unspecified destination, unless
 *       {@code allowPrivateDestinations};
 *   <li>never back to the proxy's own listening address and port, nor to its admin listener's
 *       (a request loop).
 * </ul>
 *
 * <p>A reverse proxy's upstreams are the operator's choice, so only the last applies to them,
 * as 508 Loop Detected: an upstream that is the proxy's own listener is a configuration mistake
 * (often a port typo), and forwarding to it would send the request round until its head, grown
 * by a forwarding header per hop, exceeded the limit. A forward proxy answers its loop 403, as
 * Squid does: there the client chose the destination.
 */
public final class DestinationPolicy implements DestinationCheck {
  private static final Logger log = LoggerFactory.getLogger(DestinationPolicy.class);

  private final boolean forward;
  private final boolean anyConnectPort;
  private final Set<Integer> connectPorts;
  private final boolean allowPrivate;
  private final Level logLevel;
  /** The proxy's listener, and its admin listener once it has one. */
  private volatile List<Listening> own = List.of();
  private volatile boolean denyPrivate;

  /** A listening socket of this proxy: a destination that is one is a loop. */
  private record Listening(Set<InetAddress> addresses, boolean wildcard, int port) {
    static Listening of(InetAddress bound, int port) {
      boolean wildcard = bound.isAnyLocalAddress();
      return new Listening(wildcard ? localAddresses() : Set.of(bound), wildcard, port);
    }

    boolean covers(int destinationPort, List<InetAddress> destinations) {
      if (destinationPort != port) {
        return false;
      }
      for (InetAddress address : destinations) {
        // A wildcard listener answers on all of 127.0.0.0/8, not only on the addresses listed.
        if (address.isAnyLocalAddress() || (wildcard && address.isLoopbackAddress())
            || addresses.contains(address)) {
          return true;
        }
      }
      return false;
    }
  }

  public DestinationPolicy(ProxyConfig config) {
    this.forward = !config.isReverse();
    this.anyConnectPort = config.allowsAnyConnectPort();
    this.connectPorts = config.allowedConnectPorts();
    this.allowPrivate = config.allowsPrivateDestinations();
    this.logLevel = config.quietLogs() ? Level.DEBUG : Level.INFO;
  }

  /** Learns the listening address once bound, for loop detection and the private default. */
  public void listening(InetAddress bound, int port) {
    boolean local = bound.isLoopbackAddress();
    denyPrivate = forward && !local && !allowPrivate;
    own = List.of(Listening.of(bound, port));
    if (forward) {
      LeveledLog.log(log, logLevel, "forward_policy connect_ports={} private_destinations={} loops=denied",
          anyConnectPort ? "any" : connectPorts, denyPrivate ? "denied" : "allowed");
    }
  }

  /**
   * Learns the admin listener once bound: a request through the proxy to it is a loop too (it
   * would reach the admin endpoints, a cache purge among them, as the proxy's own loopback client).
   */
  public void adminListening(InetAddress bound, int port) {
    List<Listening> with = new ArrayList<>(own);
    with.add(Listening.of(bound, port));
    own = List.copyOf(with);
  }

  @Override
  public void checkUnresolved(String host, int port, boolean tunnel) throws HttpFailureException {
    if (forward && tunnel && !anyConnectPort && !connectPorts.contains(port)) {
      throw denied("CONNECT to port " + port + " is not allowed");
    }
  }

  @Override
  public void check(String host, int port, List<InetAddress> addresses, boolean tunnel)
      throws HttpFailureException {
    if (!forward) {
      if (isSelf(port, addresses)) {
        throw new HttpFailureException(ProxyFailure.LOOP_DETECTED,
            "upstream " + new UpstreamKey(host, port, false).authority() + " is this proxy's own listener");
      }
      return;
    }
    checkUnresolved(host, port, tunnel); // a caller may have skipped it
    if (isSelf(port, addresses)) {
      throw denied("destination is this proxy itself (loop)");
    }
    for (InetAddress address : addresses) {
      if (denyPrivate && (address.isLoopbackAddress() || address.isLinkLocalAddress()
          || address.isAnyLocalAddress())) {
        throw denied("destination " + host + " is a loopback, link-local or unspecified address");
      }
    }
  }

  private boolean isSelf(int port, List<InetAddress> addresses) {
    for (Listening listening : own) {
      if (listening.covers(port, addresses)) {
        return true;
      }
    }
    return false;
  }

  private static HttpFailureException denied(String detail) {
    return new HttpFailureException(ProxyFailure.DENIED, detail);
  }

  private static Set<InetAddress> localAddresses() {
    Set<InetAddress> addresses = new HashSet<>();
    try {
      for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
        addresses.addAll(Collections.list(nic.getInetAddresses()));
      }
    } catch (SocketException e) {
      log.warn("local_addresses_unknown error={}", LogValues.quoted(e.toString()));
    }
    addresses.add(InetAddress.getLoopbackAddress());
    return Set.copyOf(addresses);
  }
}
