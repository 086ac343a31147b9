package dev.ferry.proxy.engine.balance;

import dev.ferry.proxy.Request;
import dev.ferry.proxy.engine.route.LiveEndpoint;
import java.net.InetAddress;
import java.util.List;

/**
 * Consistent hashing: the request's key picks a point on the {@link HashRing}. When the key's
 * endpoint is not a candidate (unhealthy, ejected, already tried) the next candidate along the
 * ring takes it, so only that endpoint's keys move, and they move back when it returns.
 * Requests without a key are balanced in turn.
 */
final class HashRingPicker implements EndpointPicker {
  private final HashRing ring;
  private final HashKey key;
  private final EndpointPicker withoutKey;
  private final int ringEndpoints;

  HashRingPicker(HashRing ring, HashKey key, EndpointPicker withoutKey) {
    this.ring = ring;
    this.key = key;
    this.withoutKey = withoutKey;
    this.ringEndpoints = ring.endpointCount();
  }

  @Override
  public LiveEndpoint pick(List<LiveEndpoint> candidates, Request request, InetAddress client) {
    return pick(candidates, request, client, false);
  }

  @Override
  public LiveEndpoint pickForRetry(List<LiveEndpoint> candidates, Request request, InetAddress client) {
    return pick(candidates, request, client, true);
  }

  private LiveEndpoint pick(List<LiveEndpoint> candidates, Request request, InetAddress client, boolean retry) {
    String value = key.read(request, client);
    // Candidates are a sublist of the pool, so the same size means all of them: skip the scan.
    LiveEndpoint owner = value == null ? null
        : ring.owner(XxHash64.hash(value), candidates, candidates.size() == ringEndpoints);
    if (owner != null) {
      return owner;
    }
    return retry ? withoutKey.pickForRetry(candidates, request, client) : withoutKey.pick(candidates, request, client);
  }
}
