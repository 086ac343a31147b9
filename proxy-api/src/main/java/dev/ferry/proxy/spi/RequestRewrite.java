package dev.ferry.proxy.spi;

import dev.ferry.proxy.Request;

/**
 * Implemented by the filters of {@link dev.ferry.proxy.Filters} whose whole work is a rewrite of
 * the request's header fields on its way in, in memory and without blocking (set, add, remove,
 * rename a request header): an engine may apply such a filter where it runs no filter chain, on
 * an event loop, exactly as the filter's {@code handle} would. Not for application code: a filter
 * of an application's own that implemented it would be trusted to do nothing else.
 */
public interface RequestRewrite {

  /** The request this filter passes on when given {@code request}. */
  Request rewrite(Request request);
}
