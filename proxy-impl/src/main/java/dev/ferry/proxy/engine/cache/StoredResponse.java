package dev.ferry.proxy.engine.cache;

import dev.ferry.proxy.Headers;
import java.time.Instant;
import java.util.List;

/**
 * A complete response held by the cache, with what RFC 9111 §4.2.3 needs to age it and what
 * §4.1 needs to match its Vary variant.
 *
 * @param requestTime when the request that fetched it was sent
 * @param responseTime when its head arrived
 * @param varyValues the request's values of the fields Vary names, normalised, in Vary order
 */
record StoredResponse(int status, String reason, Headers headers, byte[] body, Instant requestTime,
    Instant responseTime, List<String> varyNames, List<String> varyValues) {

  /** The memory this entry takes, roughly: body, header text and a fixed overhead. */
  int weight() {
    long size = body.length + headers.toString().length() * 2L + 256;
    return (int) Math.min(Integer.MAX_VALUE, size);
  }

  StoredResponse withHeaders(Headers updated, Instant requested, Instant responded) {
    return new StoredResponse(status, reason, updated, body, requested, responded, varyNames, varyValues);
  }
}
