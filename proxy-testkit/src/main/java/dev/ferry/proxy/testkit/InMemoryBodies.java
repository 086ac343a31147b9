package dev.ferry.proxy.testkit;

import dev.ferry.proxy.Body;
import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;

/**
 * Reads a body an observer may read without disturbing the exchange: one held in memory
 * ({@link Body#isRepeatable()}). The proxy's own answers (a 502 for a failed connect, a 504) are
 * made outside the filter chain, so the recorder sees them only as a listener, and only such
 * bodies can be copied there.
 */
final class InMemoryBodies {
  private InMemoryBodies() {}

  /**
   * The body's first bytes, at most {@code max} of them, if it can be read again and its length
   * is known: a longer body keeps its prefix, as an origin's body does in a recording.
   */
  static Optional<byte[]> read(Body body, int max) {
    long length = body.contentLength();
    if (length < 0 || !body.isRepeatable()) {
      return Optional.empty();
    }
    try (InputStream in = body.stream()) {
      return Optional.of(in.readNBytes((int) Math.min(length, max)));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }
}
