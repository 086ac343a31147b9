package dev.ferry.proxy.engine.filter;

import dev.ferry.proxy.Request;
import dev.ferry.proxy.engine.upstream.DestinationCheck;
import java.net.InetSocketAddress;

/**
 * A built-in filter whose work on a request is a decision on its head, made without blocking:
 * access control, a rate limit, credentials checked against the configured ones. An event loop
 * asks it ({@link LoopChecks}) and passes the request on itself when the filter would, so that
 * a proxy with these filters keeps its requests on the loops; and answers what the filter would
 * answer instead (403, 429, 401, 407: its {@link Refusal}) there too, as the threads would, so
 * that a flood of refused requests costs no thread.
 */
public interface HeadCheck {

  /**
   * Whether a loop may ask this filter about a forward proxy's requests ({@code forward}) or a
   * reverse proxy's: false for one that calls the application's code, which may block (an
   * {@code Authentication} checker).
   */
  default boolean onLoop(boolean forward) {
    return true;
  }

  /**
   * The request this filter passes on, for {@code request} from {@code client} to a forward
   * proxy ({@code forward}) or a reverse one: {@code request} itself or a changed one; null if it
   * would answer instead ({@link #refusal}). Changes no state: what passing costs is
   * {@link #take}n once the loop serves the request.
   */
  Request passes(Request request, InetSocketAddress client, boolean forward);

  /**
   * What this filter answers {@code request} from {@code client} with, where {@link #passes}
   * returned null; null if it would pass it on after all (the threads then decide).
   */
  Refusal refusal(Request request, InetSocketAddress client, boolean forward);

  /**
   * For a forward proxy's {@code request} from {@code client} that this filter passed: the check
   * it makes on the destination where the proxy connects, on every address the name has (access
   * rules on names, addresses or ports), as it registers one for the threads' exchange; null if
   * it makes none.
   */
  default DestinationCheck destination(Request request, InetSocketAddress client) {
    return null;
  }

  /**
   * Whether this filter's verdict on a forward proxy's {@code request} from {@code client} waits
   * for the addresses its host name has (a rule on addresses, a name it cannot judge by its
   * text): a cache hit, which connects nowhere, must not be served before they are looked up.
   */
  default boolean awaitsAddresses(Request request, InetSocketAddress client) {
    return false;
  }

  /**
   * Takes what passing {@code request} (as this filter was given it) costs, a rate limit's token,
   * once the loop is about to serve it: null if taken, else what the filter answers instead (a
   * 429 when no token is to be had).
   */
  default Refusal take(Request request, InetSocketAddress client) {
    return null;
  }
}
