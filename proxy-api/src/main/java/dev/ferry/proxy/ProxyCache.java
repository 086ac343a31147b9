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
   * included; returns whether anything was stored for it. Entries are stored under one spelling
   * of their origin (scheme and host in lower case, no trailing dot, no default port), and
   * {@code url} is read the same way: {@code http://Site.Test:80/a} purges what
   * {@code http://site.test/a} stored. Its path is read as written and normalised (escapes of
   * unreserved characters decoded, dot segments removed, as a reverse proxy's request targets
   * are): {@code http://site.test/t%7Ex} purges what a request for {@code /t~x} stored.
   *
   * @throws NullPointerException if {@code url} is null
   * @throws IllegalArgumentException if {@code url} is not an absolute {@code http} or
   *     {@code https} URL (a path alone names no entry: use {@link #purgeIf} to match paths)
   */
  boolean purge(String url);

  /**
   * Removes the stored responses whose absolute URL matches, as stored: its origin spelled as
   * {@link #purge} describes ({@code http://site.test/a}).
   */
  void purgeIf(Predicate<String> url);

  /** Removes every stored response. */
  void purgeAll();
}
