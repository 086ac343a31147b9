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
    String detail = e.detail();
    // Upstream failures carry a whole sentence naming the host ("Could not connect to origin
    // server: HOST"); every other detail completes the failure's own message.
    boolean sentence = e.failure().name().startsWith("UPSTREAM_")
        && !detail.isEmpty() && Character.isUpperCase(detail.charAt(0));
    String text = sentence ? detail : e.failure().message() + ": " + detail;
    return Response.text(e.failure().status(), text + "\n");
  }
}
