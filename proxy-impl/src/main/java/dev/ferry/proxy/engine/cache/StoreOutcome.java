package dev.ferry.proxy.engine.cache;

import java.io.IOException;

/**
 * What became of a fetched response in the store, for the requests waiting on it
 * ({@link MissCoalescer}): told once, as soon as it is known.
 */
@FunctionalInterface
interface StoreOutcome {
  /** Nothing waits on the response. */
  StoreOutcome NONE = () -> { };

  /** The copy is stored, or abandoned as it streamed (too large, a broken body, closed early). */
  void finished();

  /** Its head already says the response may not be stored (RFC 9111 §3). */
  default void refused() {
    finished();
  }

  /**
   * The response is a 304 to the request's own condition: it says nothing of what the URL's
   * other requests would be answered.
   */
  default void declined() {
    finished();
  }

  /** There is no response: the fetch failed with {@code failure}. */
  default void failed(IOException failure) {
    finished();
  }
}
