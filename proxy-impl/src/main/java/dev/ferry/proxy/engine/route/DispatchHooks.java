package dev.ferry.proxy.engine.route;

import dev.ferry.proxy.engine.upstream.UpstreamHooks;

/** What the dispatcher needs from the exchange besides the forwarder's hooks. */
public interface DispatchHooks extends UpstreamHooks {

  /** The endpoint of the current attempt was chosen. */
  void endpointChosen(LiveEndpoint endpoint);

  /** Requests the forwarder already sent again after a stale pooled connection. */
  int staleRetries();

  /** True once any byte of an answer (an interim response) has gone to the client. */
  boolean clientSawResponseBytes();

  /**
   * Runs {@code action} once the tunnel a 101 answer began has ended (its upstream connection
   * closed, whether the tunnel ran or the exchange ended first); at once if there is none.
   */
  void afterTunnel(Runnable action);
}
