package dev.ferry.proxy.engine;

import dev.ferry.proxy.ProxyConfig;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.ProxyFailure;
import dev.ferry.proxy.engine.route.Attempts;
import dev.ferry.proxy.engine.route.DispatchHooks;
import dev.ferry.proxy.engine.route.LiveEndpoint;
import dev.ferry.proxy.engine.route.LivePool;
import dev.ferry.proxy.engine.route.LiveRoute;
import dev.ferry.proxy.engine.route.StrippedPrefix;
import dev.ferry.proxy.engine.upstream.Forwarder;
import dev.ferry.proxy.engine.upstream.Target;
import dev.ferry.proxy.engine.upstream.UpstreamKey;

/**
 * A reverse proxy's route as a loop exchange's destination: the endpoint, retries and backoff by
 * {@link Attempts}, as the blocking {@code Dispatcher} has them, and the pool's slots. The
 * exchange came with a request slot and a connection slot taken ({@link LoopAdmission}); each
 * attempt holds an endpoint's count and the connection slot, a retry the budget's slot too.
 */
final class LoopRoute implements LoopDestination {
  private final LiveRoute route;
  private final LivePool pool;
  private final Attempts attempts;
  private final int timeoutMillis;
  /** What the route takes off the request's path ({@code /v1}), for {@code X-Forwarded-Prefix} and redirects; else empty. */
  private final String strippedPrefix;
  private LiveEndpoint endpoint;
  /** The attempt under way is a retry, holding the retry budget's slot. */
  private boolean retrying;

  LoopRoute(LiveRoute route, Request request, DispatchHooks hooks, ProxyConfig config) {
    this.route = route;
    this.pool = route.pool();
    this.attempts = new Attempts(pool, route.route().retry(), request, hooks);
    this.timeoutMillis = Forwarder.timeoutMillis(route.route().timeout().orElse(config.upstreamTimeout()));
    this.strippedPrefix = StrippedPrefix.of(route.route(), request.target());
  }

  @Override
  public void begin() throws HttpFailureException {
    retrying = attempts.begin();
    try {
      endpoint = attempts.choose();
    } catch (HttpFailureException e) {
      retryEnded();
      pool.releaseConnection();
      pool.release();
      throw e;
    }
    endpoint.requestStarted();
  }

  @Override
  public UpstreamKey key() throws HttpFailureException {
    return endpoint.key();
  }

  @Override
  public Target target(UpstreamKey key) {
    return new Target(endpoint.endpoint(), key, pool.spec().preservesHost(), timeoutMillis, strippedPrefix,
        !pool.spec().keepsLocation(), false);
  }

  @Override
  public String host() {
    return endpoint.endpoint().host();
  }

  @Override
  public int timeoutMillis() {
    return timeoutMillis;
  }

  @Override
  public long answered(Response framed) {
    retryEnded();
    long wait = attempts.afterStatus(endpoint, framed);
    if (wait != Attempts.NO_RETRY) {
      endpoint.requestEnded();
      pool.releaseConnection();
    }
    return wait;
  }

  @Override
  public long failed(HttpFailureException failure) {
    endpoint.requestEnded();
    pool.releaseConnection();
    long wait = attempts.afterFailure(endpoint, failure);
    retryEnded();
    if (wait == Attempts.NO_RETRY) {
      pool.release();
    }
    return wait;
  }

  @Override
  public void retry() throws HttpFailureException {
    if (!pool.tryAcquireConnection()) {
      pool.release();
      throw new HttpFailureException(ProxyFailure.POOL_OVERLOADED,
          "pool " + pool.name() + " had no free connection for the retry");
    }
  }

  @Override
  public void ended(boolean upstreamFault, String failure, int status) {
    endpoint.requestEnded();
    pool.releaseConnection();
    pool.release();
    if (upstreamFault) {
      pool.failed(endpoint, failure);
    } else if (failure == null && status < 500) {
      pool.succeeded(endpoint);
    }
  }

  @Override
  public void abandoned() {
    retryEnded();
    endpoint.requestEnded();
    pool.releaseConnection();
    pool.release();
  }

  @Override
  public void abandonedInBackoff() {
    pool.release();
  }

  @Override
  public String routeName() {
    return route.name();
  }

  /** The retry budget's slot is held until its attempt has an answer head, or failed. */
  private void retryEnded() {
    if (retrying) {
      retrying = false;
      pool.retryEnded();
    }
  }
}
