package dev.ferry.proxy.engine.filter;

import dev.ferry.proxy.Filter;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.spi.RequestRewrite;
import dev.ferry.proxy.spi.ResponseRewrite;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * The filters an event loop ran for one request, in the order the threads run them (the proxy's,
 * then its route's): {@link HeadCheck}s, each with the request it was given, and
 * {@link RequestRewrite}s of the request's header fields. The request they pass on, what passing
 * costs, {@link #take}n once the loop serves the request, and the {@link ResponseRewrite}s met
 * on the way, which rewrite its {@link #answer} in the reverse order, as the threads' chain
 * returns through them.
 */
public final class LoopChecks {
  private final InetSocketAddress client;
  /** Made at the first check: a proxy without filters allocates nothing more per request. */
  private List<HeadCheck> checks;
  private List<Request> given;
  private List<ResponseRewrite> answerRewrites;
  private Request request;

  private LoopChecks(InetSocketAddress client, Request request) {
    this.client = client;
    this.request = request;
  }

  /** Checks of {@code client}'s {@code request} before any filter ran. */
  public static LoopChecks of(InetSocketAddress client, Request request) {
    return new LoopChecks(client, request);
  }

  /** Whether a loop may run every one of {@code filters} (none: true). */
  public static boolean allOnLoop(List<Filter> filters) {
    for (Filter filter : filters) {
      if (!onLoop(filter)) {
        return false;
      }
    }
    return true;
  }

  private static boolean onLoop(Filter filter) {
    return filter instanceof RequestRewrite || filter instanceof ResponseRewrite
        || filter instanceof HeadCheck check && check.onLoop();
  }

  /**
   * Runs each of {@code filters} in turn, each given what the one before passed on; false if a
   * loop may not run one, or one would answer the request itself.
   */
  public boolean pass(List<Filter> filters) {
    for (Filter filter : filters) {
      if (!onLoop(filter)) {
        return false;
      }
      if (filter instanceof RequestRewrite rewrite) {
        request = rewrite.rewrite(request);
        continue;
      }
      if (filter instanceof ResponseRewrite rewrite) {
        if (answerRewrites == null) {
          answerRewrites = new ArrayList<>(2);
        }
        answerRewrites.add(rewrite);
        continue;
      }
      HeadCheck check = (HeadCheck) filter;
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

  /**
   * {@code response}, the upstream's answer or the cache's, as the filters return it to the
   * client: rewritten by the last response rewrite met first.
   */
  public Response answer(Response response) {
    for (int i = answerRewrites == null ? -1 : answerRewrites.size() - 1; i >= 0; i--) {
      response = answerRewrites.get(i).rewrite(response);
    }
    return response;
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
