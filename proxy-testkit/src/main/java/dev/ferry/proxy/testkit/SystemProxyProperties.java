package dev.ferry.proxy.testkit;

import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The JVM-wide {@code http.proxyHost}, {@code http.proxyPort}, {@code https.proxyHost},
 * {@code https.proxyPort} and {@code http.nonProxyHosts} system properties, pointed at a proxy
 * until {@link #close()} restores what they were. For code under test that cannot be handed a
 * {@link java.net.ProxySelector}. {@code http.nonProxyHosts} is emptied so that requests to
 * localhost go through the proxy too.
 *
 * <p>These properties are global: tests that use them must not run concurrently with each other.
 */
public final class SystemProxyProperties implements AutoCloseable {
  private static final String[] NAMES = {
      "http.proxyHost", "http.proxyPort", "https.proxyHost", "https.proxyPort", "http.nonProxyHosts"
  };

  private final Map<String, String> previous = new LinkedHashMap<>();
  private boolean closed;

  private SystemProxyProperties(InetSocketAddress address) {
    for (String name : NAMES) {
      previous.put(name, System.getProperty(name));
    }
    String host = address.getAddress().getHostAddress();
    String port = Integer.toString(address.getPort());
    System.setProperty("http.proxyHost", host);
    System.setProperty("http.proxyPort", port);
    System.setProperty("https.proxyHost", host);
    System.setProperty("https.proxyPort", port);
    System.setProperty("http.nonProxyHosts", "");
  }

  static SystemProxyProperties set(InetSocketAddress address) {
    return new SystemProxyProperties(address);
  }

  /** Restores every property to its value before, removing those that were unset. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    previous.forEach((name, value) -> {
      if (value == null) {
        System.clearProperty(name);
      } else {
        System.setProperty(name, value);
      }
    });
  }
}
