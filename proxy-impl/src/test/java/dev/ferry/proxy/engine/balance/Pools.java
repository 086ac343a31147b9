package dev.ferry.proxy.engine.balance;

import dev.ferry.proxy.Request;
import dev.ferry.proxy.Upstream;
import dev.ferry.proxy.engine.route.LiveEndpoint;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Live endpoints and requests for the picker tests; no sockets are involved. */
final class Pools {
  static final InetAddress CLIENT = InetAddress.getLoopbackAddress();
  static final Request REQUEST = Request.builder().url("http://app.test/index.html").build();

  private Pools() {}

  /** Endpoints {@code http://10.0.0.1:8080}, {@code .2}, ... with these weights. */
  static List<LiveEndpoint> weighted(int... weights) {
    Upstream pool = Upstream.weighted(url(0), weights[0]);
    for (int i = 1; i < weights.length; i++) {
      pool = pool.endpoint(url(i), weights[i]);
    }
    List<LiveEndpoint> endpoints = new ArrayList<>();
    for (Upstream.Endpoint endpoint : pool.endpoints()) {
      endpoints.add(new LiveEndpoint("api", endpoint));
    }
    return endpoints;
  }

  static List<LiveEndpoint> of(int count) {
    int[] weights = new int[count];
    Arrays.fill(weights, 1);
    return weighted(weights);
  }

  static String url(int i) {
    return "http://10.0.0." + (i + 1) + ":8080";
  }

  /** How often each endpoint was picked in {@code picks} rounds, in pool order. */
  static Map<LiveEndpoint, Integer> count(EndpointPicker picker, List<LiveEndpoint> candidates, int picks) {
    Map<LiveEndpoint, Integer> counts = new LinkedHashMap<>();
    for (LiveEndpoint endpoint : candidates) {
      counts.put(endpoint, 0);
    }
    for (int i = 0; i < picks; i++) {
      counts.merge(picker.pick(candidates, REQUEST, CLIENT), 1, Integer::sum);
    }
    return counts;
  }

  /** The picks as letters: the first endpoint is {@code a}, the second {@code b}, ... */
  static String sequence(EndpointPicker picker, List<LiveEndpoint> all, List<LiveEndpoint> candidates, int picks) {
    StringBuilder letters = new StringBuilder();
    for (int i = 0; i < picks; i++) {
      letters.append((char) ('a' + all.indexOf(picker.pick(candidates, REQUEST, CLIENT))));
    }
    return letters.toString();
  }
}
