package dev.ferry.proxy;

import java.util.function.Predicate;

/**
 * The running proxy's HTTP cache, from {@link ProxyServer#cache()}: statistics and purging.
 *
 * <pre>{@code
 * proxy.cache().ifPresent(cache -> cache.purge("http://example.com/logo.png"));
 * }</pre>
 */
public interface ProxyCache {

  /** A snapshot of the counters. */
  CacheStats stats();

  /**
   * Removes the stored responses for this absolute URL, every Vary variant (and partial entry)
   * included; returns whether anything was stored for it.
   */
  boolean purge(String url);

  /** Removes the stored responses whose absolute URL matches. */
  void purgeIf(Predicate<String> url);

  /** Removes every stored response. */
  void purgeAll();
}
