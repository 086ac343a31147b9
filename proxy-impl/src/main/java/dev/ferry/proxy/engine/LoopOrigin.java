package dev.ferry.proxy.engine;

import dev.ferry.proxy.ProxyConfig;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.route.Attempts;
import dev.ferry.proxy.engine.upstream.Forwarder;
import dev.ferry.proxy.engine.upstream.HostNames;
import dev.ferry.proxy.engine.upstream.Target;
import dev.ferry.proxy.engine.upstream.UpstreamKey;

/**
 * The origin a forward proxy's request names, as a loop exchange's destination: its host and
 * port, the proxy's upstream timeout, and nothing held or tried again, as on the threads'
 * forwarder (which resends only a request that met a stale pooled connection, as the exchange
 * does).
 */
final class LoopOrigin implements LoopDestination {
  private final Request request;
  private final int timeoutMillis;
  /** The origin's key once worked out: its host, normalised, is what errors name. */
  private UpstreamKey key;

  LoopOrigin(Request request, ProxyConfig config) {
    this.request = request;
    this.timeoutMillis = Forwarder.timeoutMillis(config.upstreamTimeout());
  }

  @Override
  public void begin() {}

  @Override
  public UpstreamKey key() throws HttpFailureException {
    if (key == null) {
      key = new UpstreamKey(HostNames.normalise(request.host()), request.port(), false);
    }
    return key;
  }

  @Override
  public Target target(UpstreamKey key) {
    return null;
  }

  @Override
  public String host() {
    return key != null ? key.host() : request.host();
  }

  @Override
  public int timeoutMillis() {
    return timeoutMillis;
  }

  @Override
  public long answered(Response framed) {
    return Attempts.NO_RETRY;
  }

  @Override
  public long failed(HttpFailureException failure) {
    return Attempts.NO_RETRY;
  }

  @Override
  public void retry() {}

  @Override
  public void ended(boolean upstreamFault, String failure, int status) {}

  @Override
  public void abandoned() {}

  @Override
  public void abandonedInBackoff() {}

  @Override
  public String routeName() {
    return null;
  }
}
