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
  /** The largest value sent on: a larger one received goes on as this (RFC 9110 §7.6.2). */
  static final long MAX_SUPPORTED = Integer.MAX_VALUE;
  private static final long INVALID = -2;

  private MaxForwards() {}

  /**
   * The hops a TRACE or OPTIONS request may still make, or -1 when the field does not apply (any
   * other method, or no field). A value that is not one non-negative number (two fields, a
   * list, a sign, letters, nothing) is refused: forwarded as it came it would bound nothing,
   * and taken for absent it would let a loop run on.
   *
   * @throws HttpFailureException 400 for such a value
   */
  public static long remaining(Request request) throws HttpFailureException {
    return remaining(request.method(), request.headers());
  }

  /** {@link #remaining(Request)} of a request's method and fields. */
  public static long remaining(String method, Headers headers) throws HttpFailureException {
    long remaining = parse(method, headers);
    if (remaining == INVALID) {
      throw new HttpFailureException(ProxyFailure.MALFORMED_REQUEST,
          "Max-Forwards must be one non-negative integer");
    }
    return remaining;
  }

  /**
   * Sets the field in the upstream's copy of the headers, when it applies: the received value
   * less one, at most {@link #MAX_SUPPORTED}. The request has passed {@link #remaining}.
   */
  public static void decrement(String method, Headers received, Headers.Builder outbound) {
    long remaining = parse(method, received);
    if (remaining > 0) {
      outbound.set("Max-Forwards", Long.toString(Math.min(remaining - 1, MAX_SUPPORTED)));
    }
  }

  private static long parse(String method, Headers headers) {
    if (!method.equals("TRACE") && !method.equals("OPTIONS")) {
      return -1;
    }
    List<String> values = headers.all("Max-Forwards");
    if (values.isEmpty()) {
      return -1;
    }
    String value = values.size() == 1 ? values.get(0).trim() : "";
    if (value.isEmpty() || !value.chars().allMatch(c -> c >= '0' && c <= '9')) {
      return INVALID;
    }
    // Any number of digits: one too long for a long still allows more hops than are sent on.
    return value.length() > 18 ? Long.MAX_VALUE : Long.parseLong(value);
  }
}
