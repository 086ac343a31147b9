package dev.ferry.proxy.engine.filter;

import dev.ferry.proxy.Filter;

/** A filter broke its contract or threw; answered with 500 and logged with the filter's name. */
public final class FilterException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient Filter filter;
  private final String publicDetail;

  FilterException(Filter filter, String message, String publicDetail, Throwable cause) {
    super(message, cause);
    this.filter = filter;
    this.publicDetail = publicDetail;
  }

  public String filterName() {
    return String.valueOf(filter);
  }

  /**
   * What the client may be told: which filter failed and, for a broken contract, how. Never
   * the exception's own message, which may carry data the filter was handling.
   */
  public String publicDetail() {
    return publicDetail;
  }
}
