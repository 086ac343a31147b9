package dev.ferry.proxy.engine.upstream;

import dev.ferry.proxy.Upstream;
import dev.ferry.proxy.engine.http1.HttpFailureException;

/** Where a connection goes; pooled connections are shared per key. */
public record UpstreamKey(String host, int port, boolean tls) {
  /**
   * Where connections to a pool's {@code endpoint} go.
   *
   * @throws HttpFailureException if its host is no valid name or literal (see {@link HostNames#normalise})
   */
  public static UpstreamKey of(Upstream.Endpoint endpoint) throws HttpFailureException {
    return new UpstreamKey(HostNames.normalise(endpoint.host()), endpoint.port(),
        endpoint.scheme().equals("https"));
  }

  @Override
  public String toString() {
    return (tls ? "https://" : "http://") + (host.indexOf(':') >= 0 ? "[" + host + "]" : host)
        + ":" + port;
  }

  /** {@code host:port}, as reported in summaries and logs. */
  public String authority() {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }
}
