package dev.ferry.proxy.engine.upstream;

import dev.ferry.proxy.engine.http1.ResponseHead;
import java.net.InetSocketAddress;

/**
 * Hooks for upstream requests that no client waits on, such as background cache refreshes:
 * interim responses go nowhere and nothing may be tunnelled.
 */
public final class DetachedHooks implements UpstreamHooks {
  private final InetSocketAddress clientAddress;
  private final DestinationCheck check;
  private final String requestedAuthority;

  /** @param requestedAuthority the authority of the client request this one stands for, or null */
  public DetachedHooks(InetSocketAddress clientAddress, DestinationCheck check, String requestedAuthority) {
    this.clientAddress = clientAddress;
    this.check = check;
    this.requestedAuthority = requestedAuthority;
  }

  @Override
  public String requestedAuthority() {
    return requestedAuthority;
  }

  @Override
  public DestinationCheck destinationCheck() {
    return check;
  }

  @Override
  public InetSocketAddress clientAddress() {
    return clientAddress;
  }

  @Override
  public void upstreamConnected(UpstreamConnection connection, boolean reused) {}

  @Override
  public void interim(ResponseHead head) {}

  @Override
  public void attach(UpstreamBody body) {}

  @Override
  public void tunnel(UpstreamConnection connection) {
    connection.close();
  }
}
