package dev.ferry.proxy.engine.filter;

import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.upstream.DestinationCheck;
import java.net.InetAddress;
import java.util.List;
import java.util.Optional;

/**
 * An access policy applied where the engine connects: on the host and port actually connected
 * to and on every address the host resolved to. The destination is refused if the policy denies
 * any one of its addresses, since the connection may go to any of them.
 */
final class DestinationRules implements DestinationCheck {
  private final AccessPolicy policy;
  private final InetAddress client;
  private final List<String> methods;

  /** {@code methods}: the request's, then those its override fields name (each must be allowed). */
  DestinationRules(AccessPolicy policy, InetAddress client, List<String> methods) {
    this.policy = policy;
    this.client = client;
    this.methods = methods;
  }

  @Override
  public void check(String host, int port, List<InetAddress> addresses, boolean tunnel)
      throws HttpFailureException {
    for (String method : methods) {
      if (addresses.isEmpty()) {
        deny(policy.denial(new AccessTarget(client, method, host, port, null, false)));
      }
      for (InetAddress address : addresses) {
        deny(policy.denial(new AccessTarget(client, method, host, port, address, false)));
      }
    }
  }

  private static void deny(Optional<HttpFailureException> denial) throws HttpFailureException {
    if (denial.isPresent()) {
      throw denial.get();
    }
  }
}
