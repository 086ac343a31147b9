package dev.ferry.proxy.engine;

import dev.ferry.proxy.Response;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.ProxyFailure;

/**
 * Renders the proxy's own error answers: a short fixed text per failure plus the engine's own
 * detail. Details are written by the engine for clients to read: they may name a host the
 * request named (already validated as a host), a filter, or a rule, but never carry request bytes
 * or an exception's own message, which may quote a peer or a path.
 */
final class ErrorResponses {
  private ErrorResponses() {}

  /** A reverse proxy refuses only CONNECT: every other method goes on to its upstream. */
  private static final String ALLOWED_METHODS = "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, TRACE";

  static Response render(HttpFailureException e) {
    Response text = Response.text(e.failure().status(), e.failure().message() + ": " + e.detail() + "\n");
    return switch (e.failure()) {
      // RFC 9110 §15.5.6: a 405 names the methods the target does support.
      case METHOD_NOT_ALLOWED -> text.withHeader("Allow", ALLOWED_METHODS);
      // Overload passes within moments; without a hint, clients that retry at once add to it
      // (RFC 9110 §10.2.3), as the 503 for a connection past the limit says (Overload).
      case OVERLOADED, POOL_OVERLOADED -> text.withHeader("Retry-After", "1");
      default -> text;
    };
  }
}
