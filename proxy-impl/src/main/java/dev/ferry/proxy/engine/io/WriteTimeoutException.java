package dev.ferry.proxy.engine.io;

import java.net.SocketTimeoutException;

/** A write made no progress within the write timeout; its socket has been closed. */
public final class WriteTimeoutException extends SocketTimeoutException {
  private static final long serialVersionUID = 1L;

  public WriteTimeoutException(String message) {
    super(message);
  }
}
