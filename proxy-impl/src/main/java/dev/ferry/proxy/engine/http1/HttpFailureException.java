package dev.ferry.proxy.engine.http1;

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

  public ProxyFailure failure() {
    return failure;
  }

  /** What exactly went wrong, for logs and for the short answer's body. */
  public String detail() {
    return detail;
  }
}
