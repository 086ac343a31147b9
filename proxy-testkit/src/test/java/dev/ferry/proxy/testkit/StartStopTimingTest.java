package dev.ferry.proxy.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * Measures how long a recording proxy takes to start and stop once the JVM is warm, and prints
 * it. Not asserted: timings on a shared machine vary; the numbers are for the record.
 */
class StartStopTimingTest {
  private static final int WARMUP = 20;
  private static final int RUNS = 50;

  @Test
  void printsStartAndStopTimes() {
    for (int i = 0; i < WARMUP; i++) {
      RecordingProxy.forward().start().close();
    }
    double[] start = new double[RUNS];
    double[] stop = new double[RUNS];
    for (int i = 0; i < RUNS; i++) {
      long t0 = System.nanoTime();
      RecordingProxy proxy = RecordingProxy.forward().start();
      long t1 = System.nanoTime();
      proxy.close();
      long t2 = System.nanoTime();
      start[i] = (t1 - t0) / 1e6;
      stop[i] = (t2 - t1) / 1e6;
      assertThat(proxy.server().stats().activeConnections()).isZero();
    }
    System.out.println(describe("start", start));
    System.out.println(describe("stop ", stop));
  }

  private static String describe(String what, double[] millis) {
    double[] sorted = millis.clone();
    Arrays.sort(sorted);
    return String.format(Locale.ROOT,
        "ferry testkit %s over %d runs after %d warm-up: median %.2f ms, p90 %.2f ms, max %.2f ms",
        what, RUNS, WARMUP, sorted[sorted.length / 2], sorted[(int) (sorted.length * 0.9)],
        sorted[sorted.length - 1]);
  }
}
