package dev.ferry.proxy.engine.http1;

import java.util.Set;

/** What the request methods promise about being sent twice. */
public final class Methods {
  /** RFC 9110 §9.2.2: the methods whose repetition has the effect of one request. */
  private static final Set<String> IDEMPOTENT = Set.of("GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE");

  private Methods() {}

  /** True for an idempotent method, which a proxy may send again after a failure (RFC 9110 §9.2.2). */
  public static boolean isIdempotent(String method) {
    return IDEMPOTENT.contains(method);
  }
}
