package dev.ferry.proxy.engine;

import dev.ferry.proxy.Response;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.route.Attempts;
import dev.ferry.proxy.engine.upstream.Target;
import dev.ferry.proxy.engine.upstream.UpstreamKey;

/**
 * Where a {@link LoopExchange}'s attempts go, and what they hold there while they run: a reverse
 * proxy's route ({@link LoopRoute}: its pool's endpoints, its request and connection slots,
 * retries, and what each outcome says of an endpoint), or the origin a forward proxy's request
 * names ({@link LoopOrigin}: nothing held, and no retry but the resend of a request that met a
 * stale connection, which the exchange does for both, as the threads' forwarder does).
 *
 * <p>The exchange calls {@link #begin} for each attempt, then exactly one of {@link #answered}
 * (its answer's head came), {@link #failed} (it failed before that) or {@link #abandoned} (the
 * exchange ended under it); after an answer that stands, {@link #ended}; after a retry's wait,
 * {@link #retry} before the next {@link #begin}, or {@link #abandonedInBackoff}.
 */
interface LoopDestination {

  /**
   * Starts an attempt: chooses its endpoint and takes its share there. Throws, with everything
   * the exchange held given back, when no endpoint can take it.
   */
  void begin() throws HttpFailureException;

  /** The key of the attempt's upstream connections. */
  UpstreamKey key() throws HttpFailureException;

  /** A reverse proxy's target for an attempt to {@code key}; null for a forward proxy's origin. */
  Target target(UpstreamKey key);

  /** The host the attempt goes to, as its errors name it. */
  String host();

  /** How long an attempt waits for its answer, in milliseconds. */
  int timeoutMillis();

  /**
   * The attempt's answer head came, framed as {@code framed}: the wait before a retry (the
   * attempt's share given back), or {@link Attempts#NO_RETRY} when the answer stands.
   */
  long answered(Response framed);

  /**
   * The attempt failed before an answer that stands: its share goes back; returns the wait before
   * a retry, or {@link Attempts#NO_RETRY} (then everything the exchange held went back).
   */
  long failed(HttpFailureException failure);

  /** A retry's wait ended: it takes a connection again, or throws with everything given back. */
  void retry() throws HttpFailureException;

  /**
   * The answer that stood came whole or broke off: everything goes back; an upstream's fault
   * counts against its endpoint, a whole answer below 500 for it.
   */
  void ended(boolean upstreamFault, String failure, int status);

  /** The exchange ended with its attempt under way (connecting, looking up, awaiting the head). */
  void abandoned();

  /** The exchange ended during a retry's wait. */
  void abandonedInBackoff();

  /** The route's name, for the exchange's report; null for a forward proxy's origin. */
  String routeName();
}
