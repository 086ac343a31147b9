package dev.ferry.proxy;

import java.io.IOException;

/**
 * Thrown by a body stream that grew past a limit. When it ends an exchange, the proxy answers
 * 413 (Content Too Large) and closes the client connection, rather than blaming the upstream.
 */
public final class ContentTooLargeException extends IOException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception; the message should name the limit, never the content. */
  public ContentTooLargeException(String message) {
    super(message);
  }
}
