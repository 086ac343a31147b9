package dev.ferry.proxy.engine.filter;

import dev.ferry.proxy.Filter;

/**
 * A built-in filter's implementation whose state (a rate limiter's buckets, the requests in
 * flight per client) outlives a reload that keeps its settings: a reload, which every SIGHUP
 * and so every log rotation makes, gave each client a fresh burst (probe g22).
 */
interface CarriedOver {
  /** True if {@code builtIn} is a value with the settings this implementation was made from. */
  boolean sameAs(Filter builtIn);
}
