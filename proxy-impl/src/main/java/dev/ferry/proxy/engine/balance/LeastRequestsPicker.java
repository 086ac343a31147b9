package dev.ferry.proxy.engine.balance;

import dev.ferry.proxy.Request;
import dev.ferry.proxy.engine.route.LiveEndpoint;
import java.net.InetAddress;
import java.util.List;

/**
 * Least requests by the power of two random choices (Envoy's default): draw two distinct
 * candidates at random, in proportion to weight, and take the one with fewer requests in
 * flight; on a tie, the first drawn. Two choices avoid both the herd that "always the least
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
    return b.activeRequests() < a.activeRequests() ? b : a;
  }
}
