package dev.ferry.proxy.engine;

import dev.ferry.proxy.Headers;
import dev.ferry.proxy.engine.http1.NameSet;

/**
 * The fields the proxy sets on every request it forwards, the request ID and the trace context,
 * whose client-sent underscore spellings go: a CGI-style backend (WSGI, PHP, Rack) reads
 * {@code X_Request_Id} and {@code X-Request-Id} as one variable, so a client's
 * {@code X_Request_Id: spoofed} reached it as {@code spoofed,<the proxy's ID>}, planting a
 * request or trace ID in its logs (probe c28). The hyphenated spellings the client sent are
 * replaced or kept as {@link RequestIds} and the trace context decide.
 */
final class OwnFields {
  private static final NameSet TRACE = NameSet.of("x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid",
      "x-b3-sampled", "x-b3-flags");

  private OwnFields() {}

  /**
   * Removes from {@code fields} the client's other spellings of own fields found in
   * {@code received}: with underscores, or, for a request ID header named with underscores
   * ({@code Req_Id}), with hyphens (probe v36: {@code Req-Id: spoof} went beside it).
   */
  static void dropUnderscoreSpellings(Headers received, Headers.Builder fields, String requestIdHeader) {
    String requestId = requestIdHeader.replace('_', '-');
    for (int i = 0; i < received.size(); i++) {
      String name = received.name(i);
      if (name.equalsIgnoreCase(requestIdHeader)) {
        continue;
      }
      String hyphenated = name.replace('_', '-');
      if (hyphenated.equalsIgnoreCase(requestId) || name.indexOf('_') >= 0 && TRACE.contains(hyphenated)) {
        fields.remove(name);
      }
    }
  }
}
