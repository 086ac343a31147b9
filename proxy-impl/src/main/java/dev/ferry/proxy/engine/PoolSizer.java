package dev.ferry.proxy.engine;

import com.sun.management.OperatingSystemMXBean;
import java.lang.management.ManagementFactory;
import java.util.function.DoubleSupplier;

/**
 * Decides the thread cap of a {@linkplain dev.ferry.proxy.Concurrency#growingTo growing} pool
 * (Java 17's default), every {@link #TICK_MILLIS}: from its base up to its ceiling while
 * connections wait for a thread and the machine's CPUs have room, and back down when they have
 * none.
 *
 * <p>A connection's thread blocks while its upstream answers, so in front of a slow backend
 * 200 threads serve at most 200 requests at a time whatever the CPUs could do: with a backend
 * taking 50 ms, 3.7k req/s and a queue of waiting clients, with the CPUs about half idle
 * ({@code vmstat}, 500 clients, the proxy, backend and load generator on two cores).
 * A fixed larger pool is no answer either: 1,000 threads ran a CPU-bound load 17 % slower than
 * 200, each extra runnable thread a share of the scheduler's switching. What tells the two
 * apart is the CPU: threads waiting on sockets leave it idle, and threads that are too many keep
 * it saturated. The threads' own states cannot: when the proxy, its backend and its clients share
 * saturated CPUs, every thread looks as if it waits for its upstream.
 *
 * <p>The CPU is the whole machine's (or the container's) recent load, not this process's, for
 * the same reason: a saturated machine gains nothing from more threads, whoever saturates it.
 */
final class PoolSizer {
  static final long TICK_MILLIS = 250;
  /** Below this load, connections waiting for a thread get more threads. */
  static final double GROW_BELOW = 0.75;
  /** Above this load, a grown cap shrinks: the threads cost more than they bring. */
  static final double SHRINK_ABOVE = 0.90;
  /** A grown cap with no connection waiting for this long goes back to the base. */
  static final long SETTLE_NANOS = 30_000_000_000L;

  private final int base;
  private final int ceiling;
  private final DoubleSupplier cpuLoad;
  private long lastWaitNanos;

  /** {@code cpuLoad} gives the CPUs' recent load from 0 to 1, or a negative value if unknown. */
  PoolSizer(int base, int ceiling, DoubleSupplier cpuLoad) {
    this.base = base;
    this.ceiling = ceiling;
    this.cpuLoad = cpuLoad;
  }

  /** The CPU load the JVM reports ({@code getCpuLoad}, container-aware), or -1 where it has none. */
  static DoubleSupplier systemCpuLoad() {
    try {
      java.lang.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
      if (os instanceof OperatingSystemMXBean) {
        return ((OperatingSystemMXBean) os)::getCpuLoad;
      }
    } catch (LinkageError e) {
      // A runtime without the jdk.management module: the cap stays at its base.
    }
    return () -> -1;
  }

  int ceiling() {
    return ceiling;
  }

  /**
   * The cap from now on, given the cap now and whether connections wait for a thread. Grows by a
   * quarter at a time (at least one thread), shrinks by a fifth, so that a few intervals cover the
   * range and a load that sits between the two thresholds leaves the cap where it is.
   */
  int next(int current, boolean waiting, long nowNanos) {
    if (waiting) {
      lastWaitNanos = nowNanos;
    } else if (current <= base) {
      // Nothing to decide, so no reading of the CPUs: an idle proxy reads none.
      return current;
    }
    double load = cpuLoad.getAsDouble();
    if (waiting && load >= 0 && load < GROW_BELOW && current < ceiling) {
      return (int) Math.min(ceiling, (long) current + Math.max(1, current / 4));
    }
    if (load > SHRINK_ABOVE && current > base) {
      return Math.max(base, current - Math.max(1, current / 5));
    }
    if (!waiting && current > base && nowNanos - lastWaitNanos > SETTLE_NANOS) {
      return base;
    }
    return current;
  }
}
