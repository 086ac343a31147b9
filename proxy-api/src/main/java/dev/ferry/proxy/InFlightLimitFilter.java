package dev.ferry.proxy;

import java.io.IOException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Caps the exchanges one client address has in progress; past the cap, 429. A client counts as
 * in progress until its response head comes back. Memory is bounded by the clients active now:
 * an address's counter is dropped when it returns to zero.
 */
final class InFlightLimitFilter implements Filter {
  private final int max;
  private final ConcurrentHashMap<String, AtomicInteger> inFlight = new ConcurrentHashMap<>();

  InFlightLimitFilter(int max) {
    if (max < 1) {
      throw new IllegalArgumentException("maxInFlight must be at least 1 (was " + max + ")");
    }
    this.max = max;
  }

  @Override
  public Response handle(Exchange exchange, Chain chain) throws IOException {
    String client = exchange.clientAddress().getAddress().getHostAddress();
    AtomicInteger count = inFlight.compute(client, (key, current) -> {
      AtomicInteger counter = current == null ? new AtomicInteger() : current;
      counter.incrementAndGet();
      return counter;
    });
    try {
      if (count.get() > max) {
        return Response.text(429, "Too many concurrent requests from this client\n")
            .withHeader("Retry-After", "1");
      }
      return chain.proceed(exchange.request());
    } finally {
      inFlight.computeIfPresent(client, (key, counter) -> counter.decrementAndGet() == 0 ? null : counter);
    }
  }

  @Override
  public String toString() {
    return "maxInFlightPerClient(" + max + ")";
  }
}
