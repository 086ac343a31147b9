package dev.ferry.proxy.engine.route;

import dev.ferry.proxy.engine.upstream.UpstreamHooks;

/** What the dispatcher needs from the exchange besides the forwarder's hooks. */
public interface DispatchHooks extends UpstreamHooks {

  /** The endpoint of the current attempt was chosen. */
  void endpointChosen(LiveEndpoint endpoint);

  /** True once any byte of an answer (an interim response) has gone to the client. */
  boolean clientSawResponseBytes();
}
