package dev.ferry.proxy.engine.http1;

import java.util.List;

/**
 * What a request's {@code Expect} field asks for (RFC 9110 §10.1.1). The field is a list,
 * case-insensitive, and repeated lines are one list (§5.3): {@code 100-continue, 100-continue}
 * or two {@code Expect: 100-continue} lines ask for a 100 like one does, and an empty member or
 * an empty field asks for nothing (§5.6.1.2). Only a member other than {@code 100-continue}
 * makes the expectation one the proxy cannot meet.
 */
public enum Expectations {
  /** No expectation. */
  NONE,
  /** {@code 100-continue} only. */
  CONTINUE,
  /** A member other than {@code 100-continue}: answered 417. */
  UNSUPPORTED;

  /** Judges the values of every {@code Expect} line of a request. */
  public static Expectations of(List<String> values) {
    Expectations result = NONE;
    for (String value : values) {
      // A quoted comma cuts a member in two: both halves are still members other than 100-continue.
      for (String member : value.split(",", -1)) {
        String trimmed = member.trim();
        if (trimmed.isEmpty()) {
          continue;
        }
        if (!trimmed.equalsIgnoreCase("100-continue")) {
          return UNSUPPORTED;
        }
        result = CONTINUE;
      }
    }
    return result;
  }
}
