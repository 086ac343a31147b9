package dev.ferry.proxy.engine.http1;

/**
 * Every way an exchange can fail, with the status the proxy answers and whether the client
 * connection must close afterwards. Status 0 means no answer can be sent (the client is gone).
 */
public enum ProxyFailure {
  MALFORMED_REQUEST(400, true, "Bad request"),
  REQUEST_TIMEOUT(408, true, "Request timed out"),
  BODY_TOO_LARGE(413, true, "Request body too large"),
  URI_TOO_LONG(414, true, "Request line too long"),
  EXPECTATION_FAILED(417, true, "Expectation not supported"),
  HEADERS_TOO_LARGE(431, true, "Request header fields too large"),
  DENIED(403, false, "Access denied"),
  AUTHENTICATION_REQUIRED(401, false, "Authentication required"),
  PROXY_AUTHENTICATION_REQUIRED(407, false, "Proxy authentication required"),
  RATE_LIMITED(429, false, "Too many requests"),
  METHOD_NOT_ALLOWED(405, false, "Method not allowed here"),
  /** A reverse proxy's absolute-form target whose scheme is not its listener's (RFC 9110 §7.4). */
  MISDIRECTED_REQUEST(421, true, "Misdirected request"),
  VERSION_NOT_SUPPORTED(505, true, "HTTP version not supported"),
  /** A request body in a transfer coding the proxy does not implement, framed by a final chunked (RFC 9112 §6.1). */
  CODING_NOT_IMPLEMENTED(501, true, "Transfer coding not implemented"),
  FILTER_FAILED(500, false, "Internal proxy error"),
  UPSTREAM_UNREACHABLE(502, false, "Could not connect to origin server"),
  UPSTREAM_BAD_RESPONSE(502, true, "Bad response from origin server"),
  UPSTREAM_RESET(502, false, "Origin server closed the connection"),
  NO_ROUTE(404, false, "No route for this request"),
  NO_HEALTHY_UPSTREAM(503, false, "No healthy upstream"),
  POOL_OVERLOADED(503, false, "Upstream pool at its limit"),
  UPSTREAM_TIMEOUT(504, false, "Origin server timed out"),
  UPSTREAM_CONNECT_TIMEOUT(504, false, "Origin server timed out"),
  REVALIDATION_FAILED(504, false, "Stored response must be revalidated, and the origin server failed"),
  LOOP_DETECTED(508, false, "Upstream is this proxy itself (loop)"),
  OVERLOADED(503, true, "Proxy overloaded"),
  CLIENT_CLOSED(0, true, "Client closed the connection"),
  RESPONSE_ABORTED(0, true, "Response aborted mid-body"),
  WRITE_TIMEOUT(0, true, "Write timed out"),
  /** The proxy stopped, and its grace for exchanges in flight ran out: the connection was cut. */
  PROXY_STOPPED(0, true, "Proxy stopped");

  private final int status;
  private final boolean closeConnection;
  private final String message;

  ProxyFailure(int status, boolean closeConnection, String message) {
    this.status = status;
    this.closeConnection = closeConnection;
    this.message = message;
  }

  public int status() {
    return status;
  }

  public boolean closeConnection() {
    return closeConnection;
  }

  /** A short, fixed text for the response body; never echoes request bytes. */
  public String message() {
    return message;
  }
}
