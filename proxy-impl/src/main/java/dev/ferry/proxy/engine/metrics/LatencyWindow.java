package dev.ferry.proxy.engine.metrics;

import dev.ferry.proxy.engine.io.Guard;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Exchange latencies over a sliding window: the last {@code slices} slices of {@code slice}
 * each (60 s as six 10 s slices by default). Recording is lock-free (HdrHistogram's
 * {@link Recorder}, a single atomic increment per exchange); reading and rotating swap the
 * recorder's interval histogram under a lock that no exchange ever takes.
 */
public final class LatencyWindow {
  private static final long HIGHEST_MICROS = TimeUnit.MINUTES.toMicros(10);

  private final Recorder recorder = new Recorder(HIGHEST_MICROS, 2);
  private final Guard guard = new Guard();
  private final Deque<Histogram> slices = new ArrayDeque<>();
  private final int maxSlices;
  private Histogram current = new Histogram(HIGHEST_MICROS, 2);
  private Histogram spare;

  public LatencyWindow(int maxSlices) {
    this.maxSlices = maxSlices;
  }

  /** Records one exchange's latency. */
  public void record(long nanos) {
    recorder.recordValue(Math.min(HIGHEST_MICROS, Math.max(0, nanos / 1000)));
  }

  /** Closes the current slice; call once per slice period (the proxy's sweeper does). */
  public void rotate() {
    guard.run(() -> {
      drain();
      slices.addLast(current);
      while (slices.size() >= maxSlices) {
        slices.removeFirst();
      }
      current = new Histogram(HIGHEST_MICROS, 2);
    });
  }

  /** The latency at {@code percentile} (0-100) over the window, in milliseconds; 0 if none. */
  public double percentileMillis(double percentile) {
    return guard.call(() -> {
      drain();
      Histogram total = current.copy();
      slices.forEach(total::add);
      return total.getTotalCount() == 0 ? 0.0 : total.getValueAtPercentile(percentile) / 1000.0;
    });
  }

  private void drain() {
    spare = recorder.getIntervalHistogram(spare);
    current.add(spare);
  }
}
