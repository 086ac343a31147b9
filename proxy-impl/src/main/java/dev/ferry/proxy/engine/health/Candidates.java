package dev.ferry.proxy.engine.health;

import dev.ferry.proxy.engine.http1.LogValues;
import dev.ferry.proxy.engine.route.LiveEndpoint;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The endpoints a pool may balance over now: the available ones (healthy and not ejected), or
 * all of them in panic mode. Panic mode is Envoy's answer to a pool where too few endpoints
 * look healthy: spreading the load over all of them serves some requests even when the health
 * signal itself is wrong (a broken check path, a shared dependency down), instead of crushing
 * the few that are left or failing everything.
 *
 * <p>One instance per pool remembers whether the pool is in panic, so that {@code pool_panic}
 * is logged once when it starts and {@code pool_panic_ended} once when it ends.
 */
public final class Candidates {
  private static final Logger log = LoggerFactory.getLogger(Candidates.class);

  private final String pool;
  private final int panicThresholdPercent;
  private final AtomicBoolean panic = new AtomicBoolean();

  /** @param panicThresholdPercent 0 to 100; 0 turns panic mode off */
  public Candidates(String pool, int panicThresholdPercent) {
    this.pool = pool;
    this.panicThresholdPercent = panicThresholdPercent;
  }

  /**
   * The endpoints to balance over, as {@link #available(List, int, long)}, logging when panic
   * mode starts or ends.
   */
  public List<LiveEndpoint> available(List<LiveEndpoint> all, long nowNanos) {
    int available = count(all, nowNanos);
    boolean panicNow = panics(available, all.size(), panicThresholdPercent);
    if (panic.get() != panicNow && panic.compareAndSet(!panicNow, panicNow)) {
      if (panicNow) {
        log.warn("pool_panic pool={} available={} total={} threshold_percent={}",
            LogValues.of(pool), available, all.size(), panicThresholdPercent);
      } else {
        // At warn like its start, so that a log of warnings alone says when it ended.
        log.warn("pool_panic_ended pool={} available={} total={}", LogValues.of(pool), available, all.size());
      }
    }
    return select(all, available, panicNow, nowNanos);
  }

  /** True while the last {@link #available(List, long)} found the pool in panic. */
  public boolean inPanic() {
    return panic.get();
  }

  /**
   * The available endpoints (healthy and not ejected), in pool order; all of them when fewer
   * than {@code panicThresholdPercent}% are available (panic mode); empty when none is and
   * panic mode is off (threshold 0), for the caller to answer 503. Returns {@code all} itself,
   * without copying, when every endpoint is available.
   */
  public static List<LiveEndpoint> available(List<LiveEndpoint> all, int panicThresholdPercent, long nowNanos) {
    int available = count(all, nowNanos);
    return select(all, available, panics(available, all.size(), panicThresholdPercent), nowNanos);
  }

  private static List<LiveEndpoint> select(List<LiveEndpoint> all, int available, boolean panic, long now) {
    if (panic || available == all.size()) {
      return all;
    }
    List<LiveEndpoint> list = new ArrayList<>(available);
    for (LiveEndpoint endpoint : all) {
      if (endpoint.available(now)) {
        list.add(endpoint);
      }
    }
    return list;
  }

  private static int count(List<LiveEndpoint> all, long now) {
    int available = 0;
    for (LiveEndpoint endpoint : all) {
      if (endpoint.available(now)) {
        available++;
      }
    }
    return available;
  }

  private static boolean panics(int available, int total, int thresholdPercent) {
    return (long) available * 100 < (long) thresholdPercent * total;
  }
}
