package dev.ferry.proxy.engine.balance;

import dev.ferry.proxy.Request;
import dev.ferry.proxy.engine.route.LiveEndpoint;
import java.net.InetAddress;
import java.util.List;

/**
 * A balancing policy at work: chooses the endpoint for one request. Made once per pool (see
 * {@code Pickers.create}) over the pool's full endpoint list, so that state such as smooth
 * weighted round-robin's current weights or a hash ring survives from request to request; each
 * call is given the endpoints available now (healthy and not ejected, or all of them in panic
 * mode). Thread-safe.
 */
public interface EndpointPicker {

  /**
   * Chooses one of {@code candidates}.
   *
   * @param candidates a non-empty sublist of the pool's endpoints, in pool order
   * @param request the request being balanced (for hash keys)
   * @param client the client's address (for {@code hash:client-ip})
   */
  LiveEndpoint pick(List<LiveEndpoint> candidates, Request request, InetAddress client);

  /**
   * Chooses one of {@code candidates} (the endpoints not tried yet) for a retry: as {@link #pick},
   * but without moving the turn of a policy that keeps one. A retry that took a turn took the
   * next request's: in a pool of a good and a failing endpoint, round-robin sent every first
   * attempt to the failing one (gateway probe F1).
   */
  default LiveEndpoint pickForRetry(List<LiveEndpoint> candidates, Request request, InetAddress client) {
    return pick(candidates, request, client);
  }
}
