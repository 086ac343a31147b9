package dev.ferry.proxy.engine.upstream;

/** Where a connection goes; pooled connections are shared per key. */
public record UpstreamKey(String host, int port, boolean tls) {
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
