package dev.ferry.samples.bench;

import dev.ferry.proxy.ProxyServer;
import java.util.Arrays;
import java.util.Locale;

/**
 * How long a proxy takes to start and to stop once the JVM is warm: what a test suite pays per
 * test for a fresh proxy (the testkit's {@code RecordingProxy} wraps this same server). Prints
 * the median, p90 and max of each; asserts nothing, since timings on a shared machine vary.
 * Usage: {@code StartStopBench [RUNS [WARMUP]]}, defaults 50 and 20.
 */
public final class StartStopBench {
  private StartStopBench() {}

  /** Runs the measurement: WARMUP + RUNS forward proxies on ephemeral loopback ports. */
  public static void main(String[] args) {
    int runs = args.length > 0 ? Integer.parseInt(args[0]) : 50;
    int warmup = args.length > 1 ? Integer.parseInt(args[1]) : 20;
    for (int i = 0; i < warmup; i++) {
      forwardProxy().start().close();
    }
    double[] start = new double[runs];
    double[] stop = new double[runs];
    for (int i = 0; i < runs; i++) {
      ProxyServer proxy = forwardProxy();
      long t0 = System.nanoTime();
      proxy.start();
      long t1 = System.nanoTime();
      proxy.close();
      long t2 = System.nanoTime();
      start[i] = (t1 - t0) / 1e6;
      stop[i] = (t2 - t1) / 1e6;
    }
    System.out.println(describe("start", start, warmup));
    System.out.println(describe("stop ", stop, warmup));
  }

  private static ProxyServer forwardProxy() {
    return ProxyServer.builder().bindAddress("127.0.0.1").port(0).build();
  }

  private static String describe(String what, double[] millis, int warmup) {
    double[] sorted = millis.clone();
    Arrays.sort(sorted);
    return String.format(Locale.ROOT,
        "ferry %s over %d runs after %d warm-up: median %.2f ms, p90 %.2f ms, max %.2f ms",
        what, sorted.length, warmup, sorted[sorted.length / 2], sorted[(int) (sorted.length * 0.9)],
        sorted[sorted.length - 1]);
  }
}
