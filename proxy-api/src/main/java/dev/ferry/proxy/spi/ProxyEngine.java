package dev.ferry.proxy.spi;

import dev.ferry.proxy.ProxyConfig;
import dev.ferry.proxy.ProxyServer;

/**
 * The contract between the API and an engine, found with {@link java.util.ServiceLoader}.
 * Users never call it; {@code dev.ferry:proxy-impl} provides the one implementation.
 */
public interface ProxyEngine {

  /** Creates a proxy, not yet started, for this validated configuration. */
  ProxyServer create(ProxyConfig config);
}
