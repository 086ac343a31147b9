package dev.ferry.proxy.engine.route;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.RetryPolicy;
import dev.ferry.proxy.engine.http1.HttpDates;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.LogValues;
import dev.ferry.proxy.engine.http1.Methods;
import dev.ferry.proxy.engine.http1.ProxyFailure;
import dev.ferry.proxy.engine.upstream.ReplayableBody;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One routed request's attempts under its route's {@link RetryPolicy}: the endpoints it tried,
 * the endpoint of the next attempt, and whether an attempt's outcome is tried again and after how
 * long (see {@link RetryPolicy} for what is retried). It decides, tells the pool what the outcome
 * says of the endpoint, and takes the retry budget's slot; it neither sends nor waits. The
 * blocking {@link Dispatcher} sleeps for the wait it returns; a caller that must not block (an
 * event loop) can set a timer instead and keep the same rules.
 */
public final class Attempts {
  private static final Logger log = LoggerFactory.getLogger(Attempts.class);
  /** Delta-seconds of more digits may not fit a long once in milliseconds. */
  private static final int MAX_SECONDS_DIGITS = 15;
  /** What {@link #afterFailure} and {@link #afterStatus} return when the outcome stands. */
  public static final long NO_RETRY = -1;

  private final LivePool pool;
  private final RetryPolicy policy;
  private final Request request;
  private final DispatchHooks hooks;
  private Set<LiveEndpoint> tried = Set.of();
  /** The attempt under way, counted from 0; -1 before the first. */
  private int attempt = -1;

  /** @param request the request as it goes upstream, its body replayable where it can be */
  public Attempts(LivePool pool, RetryPolicy policy, Request request, DispatchHooks hooks) {
    this.pool = pool;
    this.policy = policy;
    this.request = request;
    this.hooks = hooks;
  }

  /**
   * Begins the next attempt; true if it is a retry, which holds the retry budget's slot taken for
   * it until {@link LivePool#retryEnded}.
   */
  public boolean begin() {
    return ++attempt > 0;
  }

  /**
   * The endpoint of the attempt begun: one not tried yet when another is available.
   *
   * @throws HttpFailureException NO_HEALTHY_UPSTREAM (503) when none may be chosen
   */
  public LiveEndpoint choose() throws HttpFailureException {
    LiveEndpoint endpoint = pool.choose(request, hooks.clientAddress().getAddress(), tried);
    tried = withTried(tried, endpoint);
    hooks.endpointChosen(endpoint);
    return endpoint;
  }

  /**
   * The attempt on {@code endpoint} failed with {@code e} before an answer's head: counted against
   * the endpoint where it says something of it ({@link #isEndpointFailure}). Returns how many
   * milliseconds to wait before the retry, its budget slot taken, or {@link #NO_RETRY}.
   */
  public long afterFailure(LiveEndpoint endpoint, HttpFailureException e) {
    if (isEndpointFailure(e.failure())) {
      pool.failed(endpoint, e.failure().name());
    }
    if (!retryable(e) || !startRetry()) {
      return NO_RETRY;
    }
    log.info("upstream_retry pool={} endpoint={} attempt={} reason={}", LogValues.of(pool.name()),
        endpoint.authority(), attempt + 1, e.failure());
    return backoffMillis(0);
  }

  /**
   * The attempt on {@code endpoint} was answered {@code response}'s head: a 5xx counts against the
   * endpoint. Returns how many milliseconds to wait before the retry, its budget slot taken, for a
   * status the policy retries (only 5xx ones: {@link dev.ferry.proxy.RetryPolicy#onStatuses});
   * else {@link #NO_RETRY}, and the response stands.
   */
  public long afterStatus(LiveEndpoint endpoint, Response response) {
    int status = response.status();
    if (status < 500) {
      return NO_RETRY; // every answer but a 5xx, at once: no set looked up, no status boxed
    }
    pool.failed(endpoint, "status_" + status);
    if (!policy.statuses().contains(status) || countedAttempts() >= policy.retries()
        || !idempotentOrAllowed() || !resendable() || hooks.clientSawResponseBytes()) {
      return NO_RETRY;
    }
    // Retry-After speaks for the endpoint that sent it: a retry that goes elsewhere need not wait
    // for it.
    long retryAfterMillis = pool.hasUntried(tried) ? 0 : retryAfterMillis(response);
    if (retryAfterMillis > policy.retryAfterCap().toMillis() || !startRetry()) {
      return NO_RETRY;
    }
    log.info("upstream_retry pool={} endpoint={} attempt={} reason=status_{}", LogValues.of(pool.name()),
        endpoint.authority(), attempt + 1, status);
    return backoffMillis(retryAfterMillis);
  }

  /**
   * Whether a failed attempt tells against the endpoint: it could not be reached, timed out, broke
   * off or answered badly. A client's failures (a body too slow or malformed, a client gone, a
   * body too large) say nothing about it, and counting them would let any client get healthy
   * endpoints ejected.
   */
  static boolean isEndpointFailure(ProxyFailure failure) {
    return switch (failure) {
      case UPSTREAM_UNREACHABLE, UPSTREAM_BAD_RESPONSE, UPSTREAM_RESET, UPSTREAM_TIMEOUT,
          UPSTREAM_CONNECT_TIMEOUT -> true;
      default -> false;
    };
  }

  /**
   * A 503's Retry-After in milliseconds (delta-seconds or an HTTP date); 0 without one, and for
   * one that is neither, which RFC 9110 §10.2.3 leaves meaningless (it used to stop the retry).
   */
  static long retryAfterMillis(Response response) {
    if (response.status() != 503) {
      return 0;
    }
    Optional<String> value = response.headers().first("Retry-After");
    if (value.isEmpty()) {
      return 0;
    }
    String text = value.get().trim();
    if (!text.isEmpty() && text.chars().allMatch(c -> c >= '0' && c <= '9')) {
      // Seconds past what milliseconds in a long hold are "very long", never 0 (RFC 9111 §1.2.2).
      return text.length() > MAX_SECONDS_DIGITS ? Long.MAX_VALUE : Long.parseLong(text) * 1000;
    }
    // Any of the three date forms a recipient must accept (RFC 9110 §5.6.7); else ignored.
    return HttpDates.parse(text)
        .map(at -> Math.max(0, Duration.between(Instant.now(), at).toMillis()))
        .orElse(0L);
  }

  /**
   * The attempts so far that count against the policy's retries: this one and those before it,
   * and the resends on a fresh connection after a stale pooled one failed when the next attempt
   * would go back to an endpoint already tried (then {@code retries(1)} sends a request to one
   * endpoint at most twice); none of those while the pool has an endpoint not tried yet. Charged
   * regardless, a backend that crashed or resets every request spent a route's only retry on
   * itself, and the client got a 502 with a healthy endpoint left.
   */
  private int countedAttempts() {
    return attempt + (pool.hasUntried(tried) ? 0 : hooks.staleRetries());
  }

  private boolean retryable(HttpFailureException e) {
    if (countedAttempts() >= policy.retries() || hooks.clientSawResponseBytes() || !resendable()) {
      return false;
    }
    ProxyFailure failure = e.failure();
    if (failure == ProxyFailure.UPSTREAM_UNREACHABLE || failure == ProxyFailure.UPSTREAM_CONNECT_TIMEOUT) {
      return true;
    }
    return failure == ProxyFailure.UPSTREAM_RESET && idempotentOrAllowed();
  }

  /** Takes a retry-budget slot for the coming attempt; false when retries are at their share. */
  private boolean startRetry() {
    if (!pool.tryStartRetry(policy.budgetPercent())) {
      log.info("retry_budget_exhausted pool={}", LogValues.of(pool.name()));
      return false;
    }
    return true;
  }

  private boolean idempotentOrAllowed() {
    return policy.retriesNonIdempotent() || Methods.isIdempotent(request.method());
  }

  private boolean resendable() {
    Body body = request.body();
    return body.isEmpty() || (body instanceof ReplayableBody && ((ReplayableBody) body).replayable());
  }

  /**
   * Exponential backoff with full jitter (AWS's) before the next attempt, at least a 503's
   * Retry-After.
   */
  private long backoffMillis(long retryAfterMillis) {
    int retry = attempt + 1;
    long base = policy.baseBackoff().toMillis();
    long ceiling = Math.min(policy.maxBackoff().toMillis(), base << Math.min(retry - 1, 20));
    return Math.max(retryAfterMillis, ThreadLocalRandom.current().nextLong(ceiling + 1));
  }

  /** The endpoints tried so far and {@code endpoint}: a one-element set on the first attempt. */
  private static Set<LiveEndpoint> withTried(Set<LiveEndpoint> tried, LiveEndpoint endpoint) {
    if (tried.isEmpty()) {
      return Set.of(endpoint);
    }
    Set<LiveEndpoint> more = new HashSet<>(tried);
    more.add(endpoint);
    return more;
  }
}
