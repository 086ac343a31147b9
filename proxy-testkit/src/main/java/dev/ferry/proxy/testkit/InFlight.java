package dev.ferry.proxy.testkit;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.Headers;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.Response;

/**
 * What the recorder knows so far about one exchange in progress. Written on the exchange's
 * connection thread (listener callbacks and filters run there), read once when it completes.
 */
final class InFlight {
  final long startedNanos = System.nanoTime();
  final long order;
  volatile Request request;
  volatile int sequence;
  volatile BodyCapture requestBody;
  volatile Body requestTee;
  volatile long proceedNanos;
  volatile long releasedNanos;
  volatile long connectedNanos;
  volatile boolean reused;
  volatile long headersNanos;
  volatile Response filterResponse;
  volatile BodyCapture responseBody;
  volatile Response sentResponse;
  /** The fields of {@link #sentResponse} as the client got them (see {@link SentHeaders}). */
  volatile Headers sentHeaders;
  volatile BodyCapture proxyMadeBody;
  volatile boolean replayed;
  volatile boolean unmatched;
  volatile String fault;
  volatile boolean faultChangedResponse;
  volatile boolean dropped;

  InFlight(long order) {
    this.order = order;
  }
}
