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

  /** The copy is stored. */
  void finished();

  /**
   * The response may not be stored: its head says so (RFC 9111 §3), or its body outgrew the
   * entry limit as it streamed.
   */
  default void refused() {
    finished();
  }

  /**
   * The copy was given up as it streamed: the body broke or ended short, or it was closed
   * unread. Nothing was stored, and nothing is known of the URL's next answer.
   */
  default void abandoned() {
    finished();
  }

  /**
   * The response is a 304 to the request's own condition: it says nothing of what the URL's
   * other requests would be answered.
   */
  default void declined() {
    finished();
  }

  /**
   * The response may be stored, but its body is a stream (server-sent events) that ends when
   * its origin ends it, if ever: nothing should wait for it to be stored. The copy's own end is
   * told later, as for any response.
   */
  default void streaming() {}

  /** There is no response: the fetch failed with {@code failure}. */
  default void failed(IOException failure) {
    finished();
  }
}
