package dev.ferry.proxy.engine.http1;

import dev.ferry.proxy.ContentTooLargeException;
import java.io.IOException;

/**
 * A failure the engine knows how to answer. It is an {@link IOException} so that it travels
 * through {@code Filter.Chain#proceed} and body streams unchanged.
 */
public final class HttpFailureException extends IOException {
  private static final long serialVersionUID = 1L;

  private final ProxyFailure failure;
  private final String detail;

  public HttpFailureException(ProxyFailure failure, String detail) {
    super(failure + ": " + detail);
    this.failure = failure;
    this.detail = detail;
  }

  public HttpFailureException(ProxyFailure failure, String detail, Throwable cause) {
    super(failure + ": " + detail, cause);
    this.failure = failure;
    this.detail = detail;
  }

  /**
   * A body past a limit, the proxy's or a filter's: 413, its detail the exception's message,
   * which names the limit and never the content.
   */
  public static HttpFailureException bodyTooLarge(ContentTooLargeException e) {
    return new HttpFailureException(ProxyFailure.BODY_TOO_LARGE,
        e.getMessage() == null ? "request body exceeds the limit" : e.getMessage(), e);
  }

  public ProxyFailure failure() {
    return failure;
  }

  /** What exactly went wrong, for logs and for the short answer's body. */
  public String detail() {
    return detail;
  }
}
