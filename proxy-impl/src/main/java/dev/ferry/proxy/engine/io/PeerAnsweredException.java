package dev.ferry.proxy.engine.io;

import java.io.IOException;

/**
 * A write stopped because the peer answered while it was blocked: the peer no longer reads
 * what is sent and is waiting for its answer to be read (RFC 9112 §9.5). The socket's output
 * is shut down; its input still holds the answer.
 */
public final class PeerAnsweredException extends IOException {
  private static final long serialVersionUID = 1L;

  public PeerAnsweredException(String message) {
    super(message);
  }
}
