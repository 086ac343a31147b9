package dev.ferry.proxy.engine.balance;

import dev.ferry.proxy.Request;
import dev.ferry.proxy.engine.route.LiveEndpoint;
import java.net.InetAddress;
import java.util.List;

/**
 * Least requests by the power of two random choices (Envoy's default): draw two distinct
 * candidates at random, in proportion to weight, and take the one with fewer requests in
 * flight for its weight; on a tie, the first drawn. Two choices avoid both the herd that "always the least
 * loaded" sends to one endpoint from many proxies, and the scan of every endpoint, while the
 * load spread stays close to that of a full scan (Mitzenmacher).
 */
final class LeastRequestsPicker implements EndpointPicker {
  private final Draws draws;

  LeastRequestsPicker(Draws draws) {
    this.draws = draws;
  }

  @Override
  public LiveEndpoint pick(List<LiveEndpoint> candidates, Request request, InetAddress client) {
    if (candidates.size() == 1) {
      return candidates.get(0);
    }
    int total = Weights.total(candidates);
    int first = Weights.index(candidates, draws.nextInt(total), -1);
    int second = Weights.index(candidates, draws.nextInt(total - candidates.get(first).weight()), first);
    LiveEndpoint a = candidates.get(first);
    LiveEndpoint b = candidates.get(second);
    return lessLoaded(b, a) ? b : a;
  }

  /**
   * True if {@code b} has fewer requests in flight than {@code a} for its weight (in flight /
   * weight, compared without division). Raw counts even out at one to one once requests overlap,
   * whatever the weights (probe g12: 50/50 for weights 3 and 1); counted per unit of weight, an
   * endpoint of weight 3 carries three times the requests of one of weight 1. Idle endpoints tie,
   * and the draw, in proportion to weight, decides.
   */
  private static boolean lessLoaded(LiveEndpoint b, LiveEndpoint a) {
    return (long) b.activeRequests() * a.weight() < (long) a.activeRequests() * b.weight();
  }
}
