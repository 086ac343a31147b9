package dev.ferry.proxy.engine;

import dev.ferry.proxy.engine.http1.ResponseHead;
import dev.ferry.proxy.engine.route.DispatchHooks;
import dev.ferry.proxy.engine.route.LiveEndpoint;
import dev.ferry.proxy.engine.upstream.DestinationCheck;
import dev.ferry.proxy.engine.upstream.DetachedHooks;
import dev.ferry.proxy.engine.upstream.UpstreamBody;
import dev.ferry.proxy.engine.upstream.UpstreamConnection;
import java.net.InetSocketAddress;

/** Dispatch hooks for requests no client waits on (background cache refreshes). */
final class DetachedDispatchHooks implements DispatchHooks {
  private final DetachedHooks hooks;

  DetachedDispatchHooks(DetachedHooks hooks) {
    this.hooks = hooks;
  }

  @Override
  public void endpointChosen(LiveEndpoint endpoint) {}

  @Override
  public int staleRetries() {
    return 0;
  }

  @Override
  public boolean clientSawResponseBytes() {
    return false;
  }

  @Override
  public void afterTunnel(Runnable action) {
    action.run();
  }

  @Override
  public String requestedAuthority() {
    return hooks.requestedAuthority();
  }

  @Override
  public InetSocketAddress clientAddress() {
    return hooks.clientAddress();
  }

  @Override
  public DestinationCheck destinationCheck() {
    return hooks.destinationCheck();
  }

  @Override
  public void upstreamConnected(UpstreamConnection connection, boolean reused) {}

  @Override
  public void interim(ResponseHead head) {}

  @Override
  public void attach(UpstreamBody body) {}

  @Override
  public void tunnel(UpstreamConnection connection) {
    hooks.tunnel(connection);
  }
}
