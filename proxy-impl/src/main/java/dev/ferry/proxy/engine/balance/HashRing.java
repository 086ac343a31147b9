package dev.ferry.proxy.engine.balance;

import dev.ferry.proxy.engine.route.LiveEndpoint;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A consistent-hash ring (Karger et al.; ketama's layout): each endpoint owns {@code 160 *
 * weight} points, placed by hashing its URL and the point's number, and a key belongs to the
 * first point at or after the key's hash. Removing one of N endpoints frees only its own points,
 * so only about 1/N of the keys move. Immutable once built; lookups are a binary search.
 *
 * <p>Points are placed by the endpoint's URL, not its position or weight in the pool, so a
 * reconfiguration that adds, drops or reorders endpoints keeps every other endpoint's keys.
 */
final class HashRing {
  /** ketama's count; 100 to 200 keep each endpoint's share within about 10% of its due. */
  static final int POINTS_PER_WEIGHT = 160;
  /** Bounds memory (12 bytes a point) for pools with very large weights. */
  private static final int MAX_POINTS = 1 << 18;

  private final long[] hashes;
  private final LiveEndpoint[] owners;

  private HashRing(long[] hashes, LiveEndpoint[] owners) {
    this.hashes = hashes;
    this.owners = owners;
  }

  static HashRing of(List<LiveEndpoint> endpoints) {
    int totalWeight = Weights.total(endpoints);
    int perWeight = Math.max(1, Math.min(POINTS_PER_WEIGHT, MAX_POINTS / Math.max(1, totalWeight)));
    Map<String, Integer> seen = new HashMap<>();
    long[][] points = new long[totalWeight * perWeight][];
    int n = 0;
    for (int e = 0; e < endpoints.size(); e++) {
      LiveEndpoint endpoint = endpoints.get(e);
      String name = endpoint.endpoint().scheme() + "://" + endpoint.authority() + endpoint.endpoint().basePath();
      // The same URL listed twice must not put both copies on the very same points.
      int copy = seen.merge(name, 1, Integer::sum);
      String prefix = copy == 1 ? name + "_" : name + "#" + copy + "_";
      for (int p = 0; p < endpoint.weight() * perWeight; p++) {
        points[n++] = new long[] {XxHash64.hash(prefix + p), e};
      }
    }
    // Ties (vanishingly rare) go by pool order, so the ring does not depend on sort stability.
    Arrays.sort(points, (a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
    long[] hashes = new long[n];
    LiveEndpoint[] owners = new LiveEndpoint[n];
    for (int i = 0; i < n; i++) {
      hashes[i] = points[i][0];
      owners[i] = endpoints.get((int) points[i][1]);
    }
    return new HashRing(hashes, owners);
  }

  /**
   * The owner of {@code hash} among {@code candidates}: the first point at or after the hash
   * (wrapping around) whose endpoint is a candidate; null if no candidate is on the ring.
   */
  LiveEndpoint owner(long hash, List<LiveEndpoint> candidates, boolean allCandidates) {
    int found = Arrays.binarySearch(hashes, hash);
    int start = found >= 0 ? found : -found - 1;
    for (int step = 0; step < hashes.length; step++) {
      LiveEndpoint owner = owners[(start + step) % hashes.length];
      // LiveEndpoint keeps identity equality, so contains() is an identity scan.
      if (allCandidates || candidates.contains(owner)) {
        return owner;
      }
    }
    return null;
  }

  /** How many distinct endpoints are on the ring. */
  int endpointCount() {
    return (int) Arrays.stream(owners).distinct().count();
  }
}
