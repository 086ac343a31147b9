package dev.ferry.proxy.engine.filter;

import dev.ferry.proxy.Filter;
import dev.ferry.proxy.Request;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@link HeadCheck}s an event loop ran for one request, in the order the threads run them
 * (the proxy's filters, then its route's), each with the request it was given: the request they
 * pass on, and what passing costs, {@link #take}n once the loop serves the request.
 */
public final class LoopChecks {
  private final InetSocketAddress client;
  /** Made at the first check: a proxy without filters allocates nothing more per request. */
  private List<HeadCheck> checks;
  private List<Request> given;
  private Request request;

  private LoopChecks(InetSocketAddress client, Request request) {
    this.client = client;
    this.request = request;
  }

  /** Checks of {@code client}'s {@code request} before any filter ran. */
  public static LoopChecks of(InetSocketAddress client, Request request) {
    return new LoopChecks(client, request);
  }

  /**
   * Asks each of {@code filters} in turn, each given what the one before passed on; false if one
   * is no {@link HeadCheck} a loop may ask, or would answer the request itself.
   */
  public boolean pass(List<Filter> filters) {
    for (Filter filter : filters) {
      if (!(filter instanceof HeadCheck check) || !check.onLoop()) {
        return false;
      }
      Request passed = check.passes(request, client);
      if (passed == null) {
        return false;
      }
      if (checks == null) {
        checks = new ArrayList<>(2);
        given = new ArrayList<>(2);
      }
      checks.add(check);
      given.add(request);
      request = passed;
    }
    return true;
  }

  /** The request the last filter passed on (the one checked, if none ran). */
  public Request request() {
    return request;
  }

  /**
   * Takes what each check's passing costs, in order; false if one cannot be had (a rate limit
   * spent), and the threads then run the filters again and answer. With two rate limits in one
   * chain, a token the first took stays taken and the threads take another: nothing is given
   * back on the threads either when a later filter answers.
   */
  public boolean take() {
    for (int i = 0; checks != null && i < checks.size(); i++) {
      if (!checks.get(i).take(given.get(i), client)) {
        return false;
      }
    }
    return true;
  }
}
