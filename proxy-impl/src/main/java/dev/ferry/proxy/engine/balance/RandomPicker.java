package dev.ferry.proxy.engine.balance;

import dev.ferry.proxy.Request;
import dev.ferry.proxy.engine.route.LiveEndpoint;
import java.net.InetAddress;
import java.util.List;

/** At random, in proportion to weight; no shared state besides the random source. */
final class RandomPicker implements EndpointPicker {
  private final Draws draws;

  RandomPicker(Draws draws) {
    this.draws = draws;
  }

  @Override
  public LiveEndpoint pick(List<LiveEndpoint> candidates, Request request, InetAddress client) {
    if (candidates.size() == 1) {
      return candidates.get(0);
    }
    return candidates.get(Weights.index(candidates, draws.nextInt(Weights.total(candidates)), -1));
  }
}
