package dev.ferry.proxy.engine.health;

import dev.ferry.proxy.HealthCheck;
import dev.ferry.proxy.engine.http1.LogValues;
import dev.ferry.proxy.engine.http1.LoggedUrls;
import dev.ferry.proxy.engine.io.Guard;
import dev.ferry.proxy.engine.route.LiveEndpoint;
import dev.ferry.proxy.engine.tls.UpstreamHandshake;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Active health checks of one pool: each endpoint is probed ({@link HealthProbe}) on the proxy's
 * shared scheduler, and the thresholds ({@link EndpointHealth}) decide its
 * {@link LiveEndpoint#healthy()} flag, logging {@code endpoint_down} / {@code endpoint_up} on each
 * change.
 *
 * <p>Scheduling: one periodic task per endpoint, with a fixed delay between the end of one check
 * and the start of the next, so a check that runs into its timeout never makes checks pile up.
 * A check blocks its scheduler thread for at most the check's timeout; the scheduler belongs to
 * the proxy, which gives it a thread per checked endpoint (so one that hangs delays no other),
 * and {@link #start()} / {@link #stop()} only add and cancel this pool's tasks.
 */
public final class ActiveHealthChecker {
  private static final Logger log = LoggerFactory.getLogger(ActiveHealthChecker.class);

  private final String pool;
  private final HealthCheck check;
  private final List<EndpointHealth> endpoints = new ArrayList<>();
  private final ScheduledExecutorService scheduler;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final HealthProbe probe;
  private final Guard guard = new Guard();
  /** Tasks while started; only touched under {@link #guard}. */
  private final List<ScheduledFuture<?>> tasks = new ArrayList<>();
  private volatile boolean running;

  /**
   * @param tls the handshake with https endpoints: the one the proxy's requests use
   * @param scheduler the proxy's shared scheduler, which this checker never shuts down
   * @param limits the limits requests' answers are read with, which answers to checks meet too
   */
  public ActiveHealthChecker(String pool, HealthCheck check, List<LiveEndpoint> endpoints,
      UpstreamHandshake tls, ScheduledExecutorService scheduler, HeadLimits limits) {
    this.pool = pool;
    this.check = check;
    for (LiveEndpoint endpoint : endpoints) {
      this.endpoints.add(new EndpointHealth(pool, endpoint, check));
    }
    this.scheduler = scheduler;
    this.probe = new HealthProbe(check, tls, open, limits);
  }

  /** Schedules a check of every endpoint now and then every interval; does nothing if started. */
  public void start() {
    guard.run(() -> {
      if (running) {
        return;
      }
      running = true;
      long interval = check.interval().toNanos();
      for (EndpointHealth endpoint : endpoints) {
        tasks.add(scheduler.scheduleWithFixedDelay(() -> run(endpoint), 0, interval, TimeUnit.NANOSECONDS));
      }
      log.debug("health_checks_started pool={} endpoints={} path={} interval_ms={}",
          LogValues.of(pool), endpoints.size(), LoggedUrls.logValue(check.path()), check.interval().toMillis());
    });
  }

  /**
   * Cancels this pool's checks and closes the connections of checks in progress, so stopping
   * never waits for a timeout; a check cut short this way changes no endpoint's health.
   */
  public void stop() {
    guard.run(() -> {
      running = false;
      for (ScheduledFuture<?> task : tasks) {
        task.cancel(false);
      }
      tasks.clear();
    });
    for (Socket socket : open) {
      HealthProbe.closeQuietly(socket);
    }
  }

  /** One check; catches everything, since a periodic task that throws is never run again. */
  private void run(EndpointHealth endpoint) {
    try {
      if (!running) {
        return;
      }
      ProbeResult result = probe.probe(endpoint.endpoint());
      // Under the guard: a result must not land after stop(), when a reconfiguration may have
      // released the endpoints that nothing checks any more.
      guard.run(() -> {
        if (running) {
          endpoint.record(result);
        }
      });
    } catch (Throwable t) {
      log.error("health_check_crashed pool={} endpoint={}", LogValues.of(pool), endpoint.endpoint().authority(), t);
    }
  }
}
