package dev.ferry.proxy.engine.filter;

import dev.ferry.proxy.Filter;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.engine.upstream.DestinationCheck;
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
 * returns through them; or what a check answers instead ({@link #refusal}), rewritten by the
 * response rewrites met before it.
 */
public final class LoopChecks {
  private final InetSocketAddress client;
  private final boolean forward;
  /** Made at the first check: a proxy without filters allocates nothing more per request. */
  private List<HeadCheck> checks;
  private List<Request> given;
  /** For each of {@link #checks}: how many of {@link #answerRewrites} came before it. */
  private List<Integer> rewritesBefore;
  private List<ResponseRewrite> answerRewrites;
  private Request request;
  /** The check that would answer the request instead of passing it on; null: none (yet). */
  private HeadCheck refusing;
  private int rewritesBeforeRefusing;
  /** The checks on a forward proxy's destination the passing filters make; null: none. */
  private DestinationCheck destination;
  /** Whether one of them waits for the addresses of the request's host name. */
  private boolean awaitsAddresses;

  private LoopChecks(InetSocketAddress client, Request request, boolean forward) {
    this.client = client;
    this.request = request;
    this.forward = forward;
  }

  /**
   * Checks of {@code client}'s {@code request} to a forward proxy ({@code forward}) or a reverse
   * one, before any filter ran.
   */
  public static LoopChecks of(InetSocketAddress client, Request request, boolean forward) {
    return new LoopChecks(client, request, forward);
  }

  /**
   * Whether a loop may run every one of {@code filters} (none: true) for a forward proxy
   * ({@code forward}) or a reverse one.
   */
  public static boolean allOnLoop(List<Filter> filters, boolean forward) {
    for (Filter filter : filters) {
      if (!onLoop(filter, forward)) {
        return false;
      }
    }
    return true;
  }

  private static boolean onLoop(Filter filter, boolean forward) {
    return filter instanceof RequestRewrite || filter instanceof ResponseRewrite
        || filter instanceof HeadCheck check && check.onLoop(forward);
  }

  /**
   * Runs each of {@code filters} in turn, each given what the one before passed on; false if a
   * loop may not run one, or one would answer the request itself ({@link #refusal}).
   */
  public boolean pass(List<Filter> filters) {
    for (Filter filter : filters) {
      if (!onLoop(filter, forward)) {
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
      Request passed = check.passes(request, client, forward);
      if (passed == null) {
        refusing = check;
        rewritesBeforeRefusing = rewrites();
        return false;
      }
      if (checks == null) {
        checks = new ArrayList<>(2);
        given = new ArrayList<>(2);
        rewritesBefore = new ArrayList<>(2);
      }
      checks.add(check);
      given.add(request);
      rewritesBefore.add(rewrites());
      DestinationCheck rules = forward ? check.destination(request, client) : null;
      if (rules != null) {
        destination = destination == null ? rules : destination.andThen(rules);
        awaitsAddresses |= check.awaitsAddresses(request, client);
      }
      request = passed;
    }
    return true;
  }

  /**
   * {@code response}, the upstream's answer or the cache's, as the filters return it to the
   * client: rewritten by the last response rewrite met first.
   */
  public Response answer(Response response) {
    return answer(response, rewrites());
  }

  /** {@code response} rewritten by the first {@code met} response rewrites, the last of them first. */
  private Response answer(Response response, int met) {
    for (int i = met - 1; i >= 0; i--) {
      response = answerRewrites.get(i).rewrite(response);
    }
    return response;
  }

  /**
   * {@code refused} as the first {@code met} response rewrites return it: an answer rewritten, an
   * error as it is (on the threads, an exception that passes them by).
   */
  private Refusal rewritten(Refusal refused, int met) {
    return refused.error() != null ? refused : refused.answering(answer(refused.answer(), met));
  }

  private int rewrites() {
    return answerRewrites == null ? 0 : answerRewrites.size();
  }

  /**
   * What the filters answer a request {@link #pass} refused, as the threads would: the checks
   * before the refusing one take what passing them costs (a rate limit's token, whose 429 is the
   * answer if none is left), then the refusing one's answer, rewritten by the response rewrites
   * before it. Null where a loop may not run a filter, or the check passes the request after all:
   * the threads decide.
   */
  public Refusal refusal() {
    if (refusing == null) {
      return null;
    }
    Refusal spent = take();
    if (spent != null) {
      return spent;
    }
    Refusal refused = refusing.refusal(request, client, forward);
    return refused == null ? null : rewritten(refused, rewritesBeforeRefusing);
  }

  /**
   * What the filters that passed a forward proxy's request check on its destination where the
   * loop connects, in their order ({@link HeadCheck#destination}); null if none does.
   */
  public DestinationCheck destination() {
    return destination;
  }

  /**
   * Whether a filter's verdict on a forward proxy's request waits for the addresses its host
   * name has ({@link HeadCheck#awaitsAddresses}): then no cache hit may answer it before they
   * are looked up.
   */
  public boolean awaitsAddresses() {
    return awaitsAddresses;
  }

  /** The request the last filter passed on (the one checked, if none ran). */
  public Request request() {
    return request;
  }

  /**
   * Takes what each check's passing costs, in order: null if all was had, else what the check
   * that could not have it answers (a rate limit's 429), rewritten by the response rewrites before
   * it. With two rate limits in one chain, a token the first took stays taken when the second
   * has none, as on the threads.
   */
  public Refusal take() {
    for (int i = 0; checks != null && i < checks.size(); i++) {
      Refusal refused = checks.get(i).take(given.get(i), client);
      if (refused != null) {
        return rewritten(refused, rewritesBefore.get(i));
      }
    }
    return null;
  }
}
