package dev.ferry.proxy.engine;

import dev.ferry.proxy.Response;
import dev.ferry.proxy.engine.http1.HttpFailureException;

/**
 * Renders the proxy's own error answers: a short fixed text per failure plus the engine's own
 * detail, never bytes copied from the request.
 */
final class ErrorResponses {
  private ErrorResponses() {}

  static Response render(HttpFailureException e) {
    return Response.text(e.failure().status(), e.failure().message() + ": " + e.detail() + "\n");
  }
}
