package dev.ferry.proxy.engine.filter;

import dev.ferry.proxy.Filter;

/** A filter broke its contract or threw; answered with 500 and logged with the filter's name. */
public final class FilterException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient Filter filter;

  FilterException(Filter filter, String message, Throwable cause) {
    super(message, cause);
    this.filter = filter;
  }

  public String filterName() {
    return String.valueOf(filter);
  }
}
