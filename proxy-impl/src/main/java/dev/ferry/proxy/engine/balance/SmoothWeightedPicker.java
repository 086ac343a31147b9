package dev.ferry.proxy.engine.balance;

import dev.ferry.proxy.Request;
import dev.ferry.proxy.engine.io.Guard;
import dev.ferry.proxy.engine.route.LiveEndpoint;
import java.net.InetAddress;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Smooth weighted round-robin, nginx's algorithm ({@code ngx_http_upstream_get_peer}): on each
 * pick every candidate's current weight grows by its weight, the largest wins (the first on a
 * tie) and loses the total. Weights 5, 1, 1 give {@code a a b a c a a}: the heavy endpoint's
 * turns are spread out instead of bunched, which a plain weighted cycle would do.
 *
 * <p>Concurrency: the current weights are read and written together, so a pick runs under a
 * {@link Guard}; the critical section is a loop over the candidates with no I/O. An endpoint that
 * is not a candidate keeps its current weight until it is one again, as in nginx.
 */
final class SmoothWeightedPicker implements EndpointPicker {
  private final Guard guard = new Guard();
  /** Current weight per endpoint; only touched under {@link #guard}. */
  private final Map<LiveEndpoint, long[]> current = new IdentityHashMap<>();

  SmoothWeightedPicker(List<LiveEndpoint> all) {
    for (LiveEndpoint endpoint : all) {
      current.put(endpoint, new long[1]);
    }
  }

  @Override
  public LiveEndpoint pick(List<LiveEndpoint> candidates, Request request, InetAddress client) {
    if (candidates.size() == 1) {
      return candidates.get(0);
    }
    return guard.call(() -> next(candidates));
  }

  /** The candidate the next pick among {@code candidates} would choose, the weights left as they are. */
  @Override
  public LiveEndpoint pickForRetry(List<LiveEndpoint> candidates, Request request, InetAddress client) {
    if (candidates.size() == 1) {
      return candidates.get(0);
    }
    return guard.call(() -> {
      LiveEndpoint best = null;
      long bestWeight = 0;
      for (LiveEndpoint candidate : candidates) {
        long[] weight = current.get(candidate);
        long next = (weight == null ? 0 : weight[0]) + candidate.weight();
        if (best == null || next > bestWeight) {
          best = candidate;
          bestWeight = next;
        }
      }
      return best;
    });
  }

  private LiveEndpoint next(List<LiveEndpoint> candidates) {
    LiveEndpoint best = null;
    long[] bestWeight = null;
    long total = 0;
    for (LiveEndpoint candidate : candidates) {
      // A candidate the picker was not made with (should not happen) joins from zero.
      long[] weight = current.computeIfAbsent(candidate, c -> new long[1]);
      weight[0] += candidate.weight();
      total += candidate.weight();
      if (best == null || weight[0] > bestWeight[0]) {
        best = candidate;
        bestWeight = weight;
      }
    }
    bestWeight[0] -= total;
    return best;
  }
}
