package dev.ferry.proxy.engine.route;

import dev.ferry.proxy.Request;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.RetryPolicy;
import dev.ferry.proxy.Route;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.ProxyFailure;
import dev.ferry.proxy.engine.upstream.Forwarder;
import dev.ferry.proxy.engine.upstream.ReplayableBody;
import dev.ferry.proxy.engine.upstream.Target;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Sends a routed request to its pool: admission by the circuit breaker, an endpoint from the
 * balancer, outcomes to outlier detection, and the route's retry policy (see {@link RetryPolicy}
 * for what is retried). A connect failure or connect timeout is retried whatever the method,
 * since the request provably never left the proxy; a reset, or a status the policy names, only
 * for idempotent methods unless the route opts in. Nothing is retried once a byte of an answer
 * reached the client, or when the request body cannot be sent again. What each outcome makes of
 * the next attempt is {@link Attempts}'; this class sends and waits.
 */
public final class Dispatcher {
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
    String stripped = StrippedPrefix.of(spec, request.target());
    Request outbound = stripped.isEmpty() ? request
        : request.withTarget(StrippedPrefix.rest(stripped, request.target()));
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
      Attempts attempts = new Attempts(pool, policy, outbound, hooks);
      while (true) {
        boolean retry = attempts.begin();
        try {
          LiveEndpoint endpoint = attempts.choose();
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
            long wait = attempts.afterFailure(endpoint, e);
            if (wait == Attempts.NO_RETRY) {
              throw e;
            }
            sleep(wait);
            continue;
          }
          long wait = attempts.afterStatus(endpoint, response);
          if (wait != Attempts.NO_RETRY) {
            response.body().close();
            endpoint.requestEnded();
            pool.releaseConnection();
            sleep(wait);
            continue;
          }
          handedOver = true;
          return released(response, pool, endpoint, hooks);
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
   * The response that stands, its body giving the pool's slots back once it has ended: the
   * endpoint's request, its connection and the pool's request; or, for a 101, once the tunnel it
   * began has ended.
   */
  private static Response released(Response response, LivePool pool, LiveEndpoint endpoint,
      DispatchHooks hooks) {
    Runnable release = () -> {
      endpoint.requestEnded();
      pool.releaseConnection();
      pool.release();
    };
    if (response.status() == 101) {
      // The upstream connection carries the tunnel now: it stays one of the pool's connections
      // and requests in use until the tunnel ends (probe gateway2: six WebSockets through a pool
      // of maxConnections 2).
      pool.succeeded(endpoint);
      hooks.afterTunnel(release);
      return response;
    }
    // A 2xx-4xx head succeeds once its body has come whole (it may yet break off).
    ReleasingBody.Outcome outcome = response.status() >= 500 ? ReleasingBody.Outcome.NONE : new ReleasingBody.Outcome() {
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
  }

  /** Waits out a retry's backoff ({@link Attempts}). */
  private static void sleep(long millis) {
    try {
      TimeUnit.MILLISECONDS.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
