package dev.ferry.proxy.engine.balance;

import dev.ferry.proxy.engine.route.LiveEndpoint;
import java.util.List;

/**
 * Weighted choice by walking the candidates: O(n) per pick, which beats keeping prefix sums for
 * candidate lists that change with every ejection, at pool sizes of tens of endpoints.
 */
final class Weights {
  private Weights() {}

  /** The sum of the candidates' weights (each is 1 to 1000, so no overflow below 2 million). */
  static int total(List<LiveEndpoint> candidates) {
    int total = 0;
    for (LiveEndpoint candidate : candidates) {
      total += candidate.weight();
    }
    return total;
  }

  /**
   * The index of the candidate that {@code point} (in {@code [0, total)}) falls on when each
   * candidate covers a stretch as long as its weight, leaving out the one at {@code skip} (-1
   * for none; the total must then exclude its weight).
   */
  static int index(List<LiveEndpoint> candidates, int point, int skip) {
    int remaining = point;
    for (int i = 0; i < candidates.size(); i++) {
      if (i == skip) {
        continue;
      }
      remaining -= candidates.get(i).weight();
      if (remaining < 0) {
        return i;
      }
    }
    throw new IllegalStateException("point " + point + " beyond the total weight");
  }
}
