package dev.ferry.proxy.engine.route;

import dev.ferry.proxy.Filter;
import dev.ferry.proxy.ProxyConfig;
import dev.ferry.proxy.engine.http1.LogValues;
import dev.ferry.proxy.engine.tls.UpstreamHandshake;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BinaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reverse proxy's route table, replaceable while the proxy runs. Each exchange reads the
 * current table once, when it is routed, and keeps it: a reconfiguration swaps the reference
 * atomically, so exchanges in flight finish on the table they started with and new ones use the
 * new one. Pools removed by a swap stop their health checks; their idle upstream connections
 * expire in the shared connection pool, and nothing new is sent to them.
 */
public final class Router {
  private static final Logger log = LoggerFactory.getLogger(Router.class);
  private static final int MAX_CHECK_THREADS = 64;

  private final UpstreamHandshake tls;
  private final ScheduledExecutorService scheduler;
  private final BinaryOperator<List<Filter>> realise;
  private final AtomicReference<RouteTable> table = new AtomicReference<>();

  /**
   * @param tls the handshake of health checks of https endpoints, the one requests use
   * @param scheduler runs active health checks and the watch on ejections and panic mode;
   *     owned by the proxy
   */
  public Router(ProxyConfig config, UpstreamHandshake tls, ScheduledExecutorService scheduler,
      BinaryOperator<List<Filter>> realise) {
    this.tls = tls;
    this.scheduler = scheduler;
    this.realise = realise;
    table.set(RouteTable.build(config, null, tls, scheduler, realise));
  }

  /**
   * Starts the health checks of the first table, and a check each second, on the same threads,
   * that logs the ends of ejections and panic mode in pools no request reaches (they were logged
   * only with the next request, a minute late or never; probe gateway F1).
   */
  public void start() {
    sizeScheduler(table.get());
    table.get().startHealthChecks();
    scheduler.scheduleWithFixedDelay(this::noticeChanges, 1, 1, TimeUnit.SECONDS);
  }

  private void noticeChanges() {
    try {
      table.get().pools().values().forEach(LivePool::noticeChanges);
    } catch (RuntimeException e) {
      // A periodic task that throws is never run again.
      log.warn("pool_watch_failed error={}", LogValues.quoted(e.toString()), e);
    }
  }

  /**
   * A check blocks a thread for up to its timeout: as many threads as endpoints are checked (2
   * to 64), so endpoints that hang delay no other's checks; fewer after a reconfiguration that
   * checks fewer.
   */
  private void sizeScheduler(RouteTable next) {
    if (scheduler instanceof ScheduledThreadPoolExecutor threads) {
      int checked = next.pools().values().stream().filter(p -> p.spec().healthCheck().isPresent())
          .mapToInt(p -> p.endpoints().size()).sum();
      threads.setCorePoolSize(Math.max(2, Math.min(MAX_CHECK_THREADS, checked)));
    }
  }

  /** The table new exchanges route with. */
  public RouteTable current() {
    return table.get();
  }

  /**
   * Builds a table for {@code config} (carrying endpoint health over), swaps it in, then stops
   * the health checks of the old one.
   *
   * @throws IllegalArgumentException if the routes are inconsistent (two pools of one name)
   */
  public void reconfigure(ProxyConfig config) {
    RouteTable old = table.get();
    RouteTable next = RouteTable.build(config, old, tls, scheduler, realise);
    sizeScheduler(next);
    next.startHealthChecks();
    table.set(next);
    old.stopHealthChecks();
    next.releaseUnchecked();
    log.info("routes_reconfigured routes={} pools={}", config.routes().size()
        + (config.upstream().isPresent() ? 1 : 0), next.pools().keySet());
  }

  /** Stops every health check. */
  public void close() {
    table.get().stopHealthChecks();
  }
}
