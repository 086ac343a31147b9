package dev.ferry.proxy;

import java.io.IOException;

/**
 * A cap on the exchanges one client address has in progress at once; past it, 429 with
 * {@code Retry-After}. A client's exchange counts as in progress until its response head comes
 * back. Made by {@link Filters#maxInFlightPerClient(int)}.
 *
 * <p>This is a configuration value; the engine supplies the behaviour.
 */
public final class InFlightLimit implements Filter {
  private final int maxPerClient;
  private final Realised realised = new Realised(this);

  InFlightLimit(int maxPerClient) {
    if (maxPerClient < 1) {
      throw new IllegalArgumentException("maxInFlightPerClient must be at least 1 (was " + maxPerClient + ")");
    }
    this.maxPerClient = maxPerClient;
  }

  /** The most exchanges one client address may have in progress. */
  public int maxPerClient() {
    return maxPerClient;
  }

  /** Runs the engine's implementation of this limit. */
  @Override
  public Response handle(Exchange exchange, Chain chain) throws IOException {
    return realised.handle(exchange, chain);
  }

  @Override
  public String toString() {
    return "maxInFlightPerClient(" + maxPerClient + ")";
  }
}
