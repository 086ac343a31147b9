package dev.ferry.proxy.engine.filter;

import dev.ferry.proxy.AccessControl;
import dev.ferry.proxy.Authentication;
import dev.ferry.proxy.Filter;
import dev.ferry.proxy.InFlightLimit;
import dev.ferry.proxy.ProxyConfig;
import dev.ferry.proxy.RateLimit;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Turns the API's built-in filter values ({@link AccessControl}, {@link Authentication},
 * {@link RateLimit}, {@link InFlightLimit}), which hold configuration only, into the engine's
 * implementations. A proxy realises its filter list once, when it is made, so stateful filters
 * (rate-limit buckets) belong to that proxy alone.
 */
public final class BuiltInFilters {
  private BuiltInFilters() {}

  /**
   * Returns {@code configured} with each built-in value replaced by its implementation, in the
   * same order; other filters are kept as they are.
   *
   * @param config the proxy's configuration, for built-ins whose behaviour depends on proxy-wide
   *     options (none of today's does)
   */
  public static List<Filter> realise(List<Filter> configured, ProxyConfig config) {
    return realise(configured, config, List.of());
  }

  /**
   * As {@link #realise(List, ProxyConfig)}, for a reload: a built-in value with the settings of
   * one in {@code previous} (the list this one replaces, realised) keeps that implementation and
   * its state, each at most once, so a reload resets no client's rate limit.
   */
  public static List<Filter> realise(List<Filter> configured, ProxyConfig config, List<Filter> previous) {
    List<Filter> unclaimed = new ArrayList<>(previous);
    List<Filter> realised = new ArrayList<>(configured.size());
    for (Filter filter : configured) {
      Filter kept = null;
      for (Filter candidate : unclaimed) {
        if (candidate instanceof CarriedOver carried && carried.sameAs(filter)) {
          kept = candidate;
          break;
        }
      }
      if (kept != null) {
        unclaimed.remove(kept);
        realised.add(kept);
        continue;
      }
      Filter implementation = implementation(filter);
      realised.add(implementation != null ? implementation : filter);
    }
    return List.copyOf(realised);
  }

  /**
   * Returns the implementation of one built-in value.
   *
   * @throws IllegalArgumentException if {@code builtIn} is not a built-in value
   */
  public static Filter realise(Filter builtIn) {
    Filter implementation = implementation(builtIn);
    if (implementation == null) {
      throw new IllegalArgumentException("not a built-in filter: " + builtIn);
    }
    return implementation;
  }

  /**
   * True if one of these realised filters is sure to refuse a request for its credentials alone,
   * read from {@code field} (a field's single value by lower-case name, or null): such a request
   * is answered without its body being awaited first, as nginx checks access before reading it,
   * so clients without the proxy's credentials cannot fill its request buffers and spool.
   */
  public static boolean refusesCredentials(List<Filter> realised, Function<String, String> field) {
    for (Filter filter : realised) {
      if (filter instanceof AuthenticationFilter authentication && authentication.refuses(field)) {
        return true;
      }
    }
    return false;
  }

  /** Null for a filter that is not a built-in value. */
  private static Filter implementation(Filter filter) {
    if (filter instanceof AccessControl) {
      return new AccessFilter((AccessControl) filter);
    }
    if (filter instanceof Authentication) {
      return new AuthenticationFilter((Authentication) filter);
    }
    if (filter instanceof RateLimit) {
      return new RateLimitFilter((RateLimit) filter);
    }
    if (filter instanceof InFlightLimit) {
      return new InFlightLimitFilter((InFlightLimit) filter);
    }
    return null;
  }
}
