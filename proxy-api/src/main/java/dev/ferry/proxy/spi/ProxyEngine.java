package dev.ferry.proxy.spi;

import dev.ferry.proxy.Filter;
import dev.ferry.proxy.ProxyConfig;
import dev.ferry.proxy.ProxyServer;

/**
 * The contract between the API and an engine, found with {@link java.util.ServiceLoader}.
 * Users never call it; {@code dev.ferry:proxy-impl} provides the one implementation.
 */
public interface ProxyEngine {

  /** Creates a proxy, not yet started, for this validated configuration. */
  ProxyServer create(ProxyConfig config);

  /**
   * Returns the engine's implementation of a built-in filter value made by
   * {@link dev.ferry.proxy.Filters} (an access-control, authentication, rate or in-flight limit
   * value). The values hold only configuration; this is how one used outside a proxy's own chain
   * (inside {@link dev.ferry.proxy.Filters#when}, say) finds its behaviour.
   *
   * @throws IllegalArgumentException if {@code builtIn} is not such a value
   * @throws UnsupportedOperationException if this engine has no built-in filters
   */
  default Filter realise(Filter builtIn) {
    throw new UnsupportedOperationException(getClass().getName() + " has no built-in filters");
  }
}
