package dev.ferry.proxy.engine.balance;

import dev.ferry.proxy.Request;
import dev.ferry.proxy.engine.route.LiveEndpoint;
import java.net.InetAddress;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Equal-weight round-robin: one shared counter, taken modulo the candidates of each call. When
 * the candidate list shrinks (an endpoint ejected) the turn simply continues over the rest.
 */
final class RoundRobinPicker implements EndpointPicker {
  private final AtomicLong next = new AtomicLong();

  @Override
  public LiveEndpoint pick(List<LiveEndpoint> candidates, Request request, InetAddress client) {
    return candidates.get((int) Math.floorMod(next.getAndIncrement(), (long) candidates.size()));
  }

  @Override
  public LiveEndpoint pickForRetry(List<LiveEndpoint> candidates, Request request, InetAddress client) {
    return candidates.get((int) Math.floorMod(next.get(), (long) candidates.size()));
  }
}
