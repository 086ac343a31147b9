package dev.ferry.samples;

import dev.ferry.proxy.ProxyConfig;
import java.util.function.IntConsumer;

/**
 * What keeps the command-line proxy from running on without memory (probe c28): a cache larger
 * than the heap is refused at start, and an {@link OutOfMemoryError} that reaches a thread's end
 * ends the process. A JVM out of heap had lost the proxy's watchdog, idle parker and pool
 * sweeper threads and went on accepting connections it never answered, deaf to SIGTERM: a
 * process a supervisor can restart is better than that. (Embedders decide for their own JVM;
 * {@code -XX:+ExitOnOutOfMemoryError} does the same for all of it.)
 */
final class MemoryGuards {
  /** The exit status after an OutOfMemoryError, as for a proxy that cannot start. */
  static final int OUT_OF_MEMORY_STATUS = 1;
  private static final String OUT_OF_MEMORY = "ferry: out of memory; exiting (give java a larger -Xmx, "
      + "or the cache a smaller -m)";

  private MemoryGuards() {}

  /**
   * Refuses a cache that cannot fit the heap: bodies under 16 KiB, and those past the off-heap
   * cap, are kept on it, so a full cache of this size would exhaust it.
   *
   * @throws IllegalArgumentException naming {@code -m} and the heap's size
   */
  static void checkCacheFits(ProxyConfig config, long maxHeapBytes) {
    config.cache().ifPresent(cache -> {
      if (cache.maxSizeBytes() >= maxHeapBytes) {
        throw new IllegalArgumentException("-m/--cache-mb: a cache of " + (cache.maxSizeBytes() >> 20)
            + " MiB does not fit in this JVM's heap of " + (maxHeapBytes >> 20) + " MiB; run java "
            + "with a larger heap (java -Xmx" + Math.max(2 * (cache.maxSizeBytes() >> 20), 64) + "m -jar ...) "
            + "or give a smaller cache");
      }
    });
  }

  /**
   * An uncaught-exception handler that ends the process through {@code halt} on an
   * OutOfMemoryError (printing a line without the stack trace, which needs memory), and prints
   * any other exception's stack trace, as the JVM's default does.
   */
  static Thread.UncaughtExceptionHandler exitOnOutOfMemory(IntConsumer halt) {
    return (thread, failure) -> {
      if (failure instanceof OutOfMemoryError) {
        try {
          System.err.println(OUT_OF_MEMORY);
        } finally {
          halt.accept(OUT_OF_MEMORY_STATUS);
        }
        return;
      }
      System.err.print("Exception in thread \"" + thread.getName() + "\" ");
      failure.printStackTrace();
    };
  }
}
