package dev.ferry.proxy.engine.filter;

import dev.ferry.proxy.Exchange;
import dev.ferry.proxy.Filter;
import dev.ferry.proxy.InFlightLimit;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.engine.http1.ProxyFailure;
import java.io.IOException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The engine's {@link InFlightLimit}. Memory is bounded by the clients active now: an address's
 * counter is dropped when it returns to zero.
 */
final class InFlightLimitFilter implements Filter, CarriedOver {
  private final InFlightLimit config;
  private final int max;
  private final ConcurrentHashMap<String, AtomicInteger> inFlight = new ConcurrentHashMap<>();

  InFlightLimitFilter(InFlightLimit config) {
    this.config = config;
    this.max = config.maxPerClient();
  }

  @Override
  public boolean sameAs(Filter builtIn) {
    return builtIn instanceof InFlightLimit other && other.maxPerClient() == max;
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
        exchange.attribute(ProxyAnswer.class, new ProxyAnswer(ProxyFailure.RATE_LIMITED));
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
    return config.toString();
  }
}
