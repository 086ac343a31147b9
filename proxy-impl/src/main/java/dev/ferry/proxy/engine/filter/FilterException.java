package dev.ferry.proxy.engine.filter;

/** A filter broke its contract or threw; answered with 500 and logged with the filter's name. */
public final class FilterException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String filterName;
  private final String publicDetail;

  FilterException(String filterName, String message, String publicDetail, Throwable cause) {
    super(message, cause);
    this.filterName = filterName;
    this.publicDetail = publicDetail;
  }

  /** The failed filter, as {@link FilterNames#describe} names it. */
  public String filterName() {
    return filterName;
  }

  /**
   * What the client may be told: which filter failed and, for a broken contract, how. Never
   * the exception's own message, which may carry data the filter was handling.
   */
  public String publicDetail() {
    return publicDetail;
  }
}
