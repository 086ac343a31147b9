package dev.ferry.proxy.spi;

import dev.ferry.proxy.Response;

/**
 * Implemented by the filters of {@link dev.ferry.proxy.Filters} whose whole work is a rewrite of
 * the response's header fields on its way out, in memory and without blocking (set, add, remove,
 * rename a response header): an engine may apply such a filter where it runs no filter chain, on
 * an event loop, exactly as the filter's {@code handle} would to the response the rest of the
 * chain returned. Not for application code: a filter of an application's own that implemented it
 * would be trusted to do nothing else.
 */
public interface ResponseRewrite {

  /** The response this filter returns when the rest of the chain returned {@code response}. */
  Response rewrite(Response response);
}
