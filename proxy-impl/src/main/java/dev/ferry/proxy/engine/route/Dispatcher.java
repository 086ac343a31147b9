package dev.ferry.proxy.engine.route;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.RetryPolicy;
import dev.ferry.proxy.Route;
import dev.ferry.proxy.engine.http1.HttpDates;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.LogValues;
import dev.ferry.proxy.engine.http1.Methods;
import dev.ferry.proxy.engine.http1.ProxyFailure;
import dev.ferry.proxy.engine.http1.TargetPaths;
import dev.ferry.proxy.engine.upstream.Forwarder;
import dev.ferry.proxy.engine.upstream.ReplayableBody;
import dev.ferry.proxy.engine.upstream.Target;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends a routed request to its pool: admission by the circuit breaker, an endpoint from the
 * balancer, outcomes to outlier detection, and the route's retry policy (see {@link RetryPolicy}
 * for what is retried). A connect failure or connect timeout is retried whatever the method,
 * since the request provably never left the proxy; a reset, or a status the policy names, only
 * for idempotent methods unless the route opts in. Nothing is retried once a byte of an answer
 * reached the client, or when the request body cannot be sent again.
 */
public final class Dispatcher {
  private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);
  /** Delta-seconds of more digits may not fit a long once in milliseconds. */
  private static final int MAX_SECONDS_DIGITS = 15;

  private final Forwarder forwarder;
  private final int defaultTimeoutMillis;
  private final int retryBufferBytes;
  private final long connectionWaitNanos;

  public Dispatcher(Forwarder forwarder, Duration upstreamTimeout, int retryBufferBytes,
      Duration connectTimeout) {
    this.forwarder = forwarder;
    this.defaultTimeoutMillis = Forwarder.timeoutMillis(upstreamTimeout);
    this.retryBufferBytes = retryBufferBytes;
    this.connectionWaitNanos = connectTimeout.toNanos();
  }

  /** Sends {@code request} along {@code route}; the response body releases the pool's slots. */
  public Response dispatch(LiveRoute route, Request request, DispatchHooks hooks) throws IOException {
    LivePool pool = route.pool();
    Route spec = route.route();
    RetryPolicy policy = spec.retry();
    String stripped = strippedPrefix(spec, request);
    Request outbound = stripped.isEmpty() ? request : stripPrefix(stripped, request);
    if (policy.retries() > 0 && !outbound.body().isEmpty()) {
      // Whatever its length: a body none of which was read yet (a connect that failed) can be
      // sent again (a 100 KB POST to a refused endpoint was a 502, not a retry, probe g22). One
      // declared larger than the buffer could never be replayed once read: nothing of it is kept.
      long length = outbound.body().contentLength();
      outbound = outbound.withBody(ReplayableBody.of(outbound.body(),
          length > retryBufferBytes ? 0 : retryBufferBytes));
    }
    int timeout = spec.timeout().map(Forwarder::timeoutMillis).orElse(defaultTimeoutMillis);
    pool.admit();
    boolean handedOver = false;
    try {
      Set<LiveEndpoint> tried = Set.of();
      for (int attempt = 0; ; attempt++) {
        boolean retry = attempt > 0;
        try {
          LiveEndpoint endpoint = pool.choose(outbound, hooks.clientAddress().getAddress(), tried);
          tried = withTried(tried, endpoint);
          hooks.endpointChosen(endpoint);
          Response response;
          if (pool.acquireConnection(connectionWaitNanos) && hooks.abandonable()
              && hooks.clientGone()) {
            // It waited for a connection, its client left meanwhile: nothing goes upstream, a
            // POST included (probe v36: it reached the origin seconds after its client left).
            pool.releaseConnection();
            throw new HttpFailureException(ProxyFailure.CLIENT_CLOSED,
                "client closed the connection while its request waited for a pool connection");
          }
          endpoint.requestStarted();
          try {
            response = forwarder.forward(outbound, hooks,
                new Target(endpoint.endpoint(), endpoint.key(), pool.spec().preservesHost(), timeout,
                    stripped, !pool.spec().keepsLocation(), pool.crowded()));
          } catch (HttpFailureException e) {
            endpoint.requestEnded();
            pool.releaseConnection();
            if (isEndpointFailure(e.failure())) {
              pool.failed(endpoint, e.failure().name());
            }
            if (!retryable(e, outbound, policy, attempt + chargedStaleRetries(pool, tried, hooks), hooks)
                || !startRetry(pool, policy)) {
              throw e;
            }
            log.info("upstream_retry pool={} endpoint={} attempt={} reason={}", LogValues.of(pool.name()),
                endpoint.authority(), attempt + 1, e.failure());
            backoff(policy, attempt + 1, 0);
            continue;
          }
          boolean answered = response.status() < 500;
          if (!answered) {
            pool.failed(endpoint, "status_" + response.status());
          }
          if (policy.statuses().contains(response.status())
              && attempt + chargedStaleRetries(pool, tried, hooks) < policy.retries()
              && idempotentOrAllowed(outbound, policy) && resendable(outbound)
              && !hooks.clientSawResponseBytes()) {
            // Retry-After speaks for the endpoint that sent it: a retry that goes elsewhere
            // need not wait for it.
            long retryAfterMillis = pool.hasUntried(tried) ? 0 : retryAfterMillis(response);
            if (retryAfterMillis <= policy.retryAfterCap().toMillis() && startRetry(pool, policy)) {
              if (answered) {
                pool.succeeded(endpoint);
              }
              response.body().close();
              endpoint.requestEnded();
              pool.releaseConnection();
              log.info("upstream_retry pool={} endpoint={} attempt={} reason=status_{}", LogValues.of(pool.name()),
                  endpoint.authority(), attempt + 1, response.status());
              backoff(policy, attempt + 1, retryAfterMillis);
              continue;
            }
          }
          handedOver = true;
          Runnable release = () -> {
            endpoint.requestEnded();
            pool.releaseConnection();
            pool.release();
          };
          if (response.status() == 101) {
            // The upstream connection carries the tunnel now: it stays one of the pool's
            // connections and requests in use until the tunnel ends (probe gateway2: six
            // WebSockets through a pool of maxConnections 2).
            pool.succeeded(endpoint);
            hooks.afterTunnel(release);
            return response;
          }
          // A 2xx-4xx head succeeds once its body has come whole (it may yet break off).
          ReleasingBody.Outcome outcome = !answered ? ReleasingBody.Outcome.NONE : new ReleasingBody.Outcome() {
            @Override
            public void ended() {
              pool.succeeded(endpoint);
            }

            @Override
            public void failed(String reason) {
              pool.failed(endpoint, reason);
            }
          };
          return response.withBody(new ReleasingBody(response.body(), release, outcome));
        } finally {
          if (retry) {
            // The retry's budget slot is held until its attempt has an answer head (or failed).
            pool.retryEnded();
          }
        }
      }
    } finally {
      if (!handedOver) {
        pool.release();
      }
    }
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
   * The resends on a fresh connection after a stale pooled one failed that count as retries:
   * those made so far when the next attempt would go back to an endpoint already tried (then
   * {@code retries(1)} sends a request to one endpoint at most twice), none while the pool has an
   * endpoint not tried yet. Charged regardless, a backend that crashed or resets every request
   * spent a route's only retry on itself, and the client got a 502 with a healthy endpoint left.
   */
  private static int chargedStaleRetries(LivePool pool, Set<LiveEndpoint> tried, DispatchHooks hooks) {
    return pool.hasUntried(tried) ? 0 : hooks.staleRetries();
  }

  /** Takes a retry-budget slot for the coming attempt; false when retries are at their share. */
  private static boolean startRetry(LivePool pool, RetryPolicy policy) {
    if (!pool.tryStartRetry(policy.budgetPercent())) {
      log.info("retry_budget_exhausted pool={}", LogValues.of(pool.name()));
      return false;
    }
    return true;
  }

  /** @param attempts the attempts made so far that count against the policy's retries */
  private static boolean retryable(HttpFailureException e, Request request, RetryPolicy policy,
      int attempts, DispatchHooks hooks) {
    if (attempts >= policy.retries() || hooks.clientSawResponseBytes()
        || !resendable(request)) {
      return false;
    }
    ProxyFailure failure = e.failure();
    if (failure == ProxyFailure.UPSTREAM_UNREACHABLE || failure == ProxyFailure.UPSTREAM_CONNECT_TIMEOUT) {
      return true;
    }
    return failure == ProxyFailure.UPSTREAM_RESET && idempotentOrAllowed(request, policy);
  }

  private static boolean idempotentOrAllowed(Request request, RetryPolicy policy) {
    return policy.retriesNonIdempotent() || Methods.isIdempotent(request.method());
  }

  private static boolean resendable(Request request) {
    Body body = request.body();
    return body.isEmpty() || (body instanceof ReplayableBody && ((ReplayableBody) body).replayable());
  }

  /** Exponential backoff with full jitter (AWS's), at least a 503's Retry-After. */
  private static void backoff(RetryPolicy policy, int retry, long retryAfterMillis) {
    long base = policy.baseBackoff().toMillis();
    long ceiling = Math.min(policy.maxBackoff().toMillis(), base << Math.min(retry - 1, 20));
    long wait = Math.max(retryAfterMillis, ThreadLocalRandom.current().nextLong(ceiling + 1));
    try {
      TimeUnit.MILLISECONDS.sleep(wait);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
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

  /** The prefix a stripPrefix route takes off {@code request}'s path ({@code /v1}); else empty. */
  private static String strippedPrefix(Route route, Request request) {
    if (!route.stripsPrefix() || request.target().equals("*")) {
      // OPTIONS * asks about the server as a whole (RFC 9112 §3.2.4): it has no path to strip.
      return "";
    }
    return route.path().endsWith("/") ? route.path().substring(0, route.path().length() - 1) : route.path();
  }

  /**
   * {@code /v1/users} on a {@code /v1/} (or {@code /v1}) prefix route becomes {@code /users}.
   * What is left always goes up as an absolute path, normalised: {@code /v1../admin} on a
   * {@code /v1} prefix leaves {@code ../admin}, which must not reach the upstream as it is.
   */
  private static Request stripPrefix(String prefix, Request request) throws HttpFailureException {
    String rest = request.target().substring(prefix.length());
    return request.withTarget(TargetPaths.normalise(rest.startsWith("/") ? rest : "/" + rest));
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
