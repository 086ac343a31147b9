package dev.ferry.proxy.engine;

import dev.ferry.proxy.Response;
import dev.ferry.proxy.engine.http1.HttpFailureException;

/**
 * Renders the proxy's own error answers: a short fixed text per failure plus the engine's own
 * detail. Details are written by the engine for clients to read: they may name a host the
 * request named (already validated as a host), a filter, or a rule, but never carry request bytes
 * or an exception's own message, which may quote a peer or a path.
 */
final class ErrorResponses {
  private ErrorResponses() {}

  static Response render(HttpFailureException e) {
    return Response.text(e.failure().status(), e.failure().message() + ": " + e.detail() + "\n");
  }
}
