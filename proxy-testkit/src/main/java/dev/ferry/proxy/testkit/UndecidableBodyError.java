package dev.ferry.proxy.testkit;

/**
 * A body condition met a body it cannot judge: truncated with the text not in its kept part, or
 * in a Content-Encoding the recorder could not decode. Negative checks fail with it (the body
 * might hold what they rule out); positive look-ups pass over the exchange while another is
 * known to match, and fail with it only when none is.
 */
final class UndecidableBodyError extends AssertionError {
  private static final long serialVersionUID = 1L;

  UndecidableBodyError(String message) {
    super(message);
  }
}
