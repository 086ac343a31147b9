package dev.ferry.proxy.engine.http1;

import dev.ferry.proxy.Headers;
import dev.ferry.proxy.Request;
import java.util.List;

/**
 * {@code Max-Forwards} on TRACE and OPTIONS (RFC 9110 §7.6.2): each proxy on the way takes one
 * off, and the one that receives 0 answers the request itself, as its final recipient. Other
 * methods ignore it.
 */
public final class MaxForwards {
  private MaxForwards() {}

  /**
   * The hops a TRACE or OPTIONS request may still make, or -1 when the field does not apply (any
   * other method, no field, or not one non-negative number: treated as absent).
   */
  public static long remaining(Request request) {
    return remaining(request.method(), request.headers());
  }

  private static long remaining(String method, Headers headers) {
    if (!method.equals("TRACE") && !method.equals("OPTIONS")) {
      return -1;
    }
    List<String> values = headers.all("Max-Forwards");
    if (values.size() != 1) {
      return -1;
    }
    String value = values.get(0).trim();
    if (value.isEmpty() || value.length() > 18 || !value.chars().allMatch(c -> c >= '0' && c <= '9')) {
      return -1;
    }
    return Long.parseLong(value);
  }

  /** Takes one off the field in the upstream's copy of the headers, when it applies. */
  public static void decrement(String method, Headers received, Headers.Builder outbound) {
    long remaining = remaining(method, received);
    if (remaining > 0) {
      outbound.set("Max-Forwards", Long.toString(remaining - 1));
    }
  }
}
