package dev.ferry.proxy.engine.balance;

import dev.ferry.proxy.Balancer;
import dev.ferry.proxy.engine.route.LiveEndpoint;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * Makes the {@link EndpointPicker} for a pool's {@link Balancer}. One picker per pool (and per
 * reconfiguration of it), so that its state lives as long as the pool's endpoint list.
 */
public final class Pickers {
  private Pickers() {}

  /**
   * Returns the picker for {@code spec} over the pool's endpoints.
   *
   * @param all every endpoint of the pool, in pool order; the picker is given sublists of it
   * @param random where random choices come from. Production passes
   *     {@code ThreadLocalRandom.current()} (used as is, lock-free); tests pass a seeded
   *     {@code SplittableRandom}, which is not thread-safe and is therefore drawn from under a
   *     lock, so the picker is thread-safe either way.
   */
  public static EndpointPicker create(Balancer spec, List<LiveEndpoint> all, RandomGenerator random) {
    List<LiveEndpoint> endpoints = List.copyOf(all);
    switch (spec.kind()) {
      case ROUND_ROBIN:
        return inTurn(endpoints);
      case WEIGHTED:
        return new SmoothWeightedPicker(endpoints);
      case LEAST_REQUESTS:
        return new LeastRequestsPicker(Draws.of(random));
      case RANDOM:
        return new RandomPicker(Draws.of(random));
      case HASH:
        return new HashRingPicker(HashRing.of(endpoints), HashKey.of(spec), inTurn(endpoints));
      default:
        throw new IllegalArgumentException("unknown balancer " + spec);
    }
  }

  /** Round-robin, smooth weighted when the weights differ (as nginx's default does). */
  private static EndpointPicker inTurn(List<LiveEndpoint> endpoints) {
    for (LiveEndpoint endpoint : endpoints) {
      if (endpoint.weight() != endpoints.get(0).weight()) {
        return new SmoothWeightedPicker(endpoints);
      }
    }
    return new RoundRobinPicker();
  }
}
