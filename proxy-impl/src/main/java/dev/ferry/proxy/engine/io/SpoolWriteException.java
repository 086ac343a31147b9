package dev.ferry.proxy.engine.io;

import java.io.IOException;

/**
 * Writing a request body's bytes to its spool file failed (the disk full, a file size limit):
 * the proxy's failure, not the client's, which a socket's {@link IOException} would be.
 */
public final class SpoolWriteException extends IOException {
  private static final long serialVersionUID = 1L;

  SpoolWriteException(IOException cause) {
    super("writing the request body to its spool file failed: " + cause.getMessage(), cause);
  }
}
