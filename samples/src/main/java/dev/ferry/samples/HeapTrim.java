package dev.ferry.samples;

import com.sun.management.HotSpotDiagnosticMXBean;
import com.sun.management.VMOption;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import org.slf4j.LoggerFactory;

/**
 * Gives back, once the proxy has started, the heap the JVM committed at launch by its own rule:
 * without {@code -Xms}, a 64th of the machine's memory (384 MiB on a 24 GiB machine), whatever
 * the proxy needs. A proxy's live heap is a few MiB, but G1 cycles its young generation through
 * all of the committed heap, so the process's resident memory was set by the machine's RAM, not
 * by its load: about 335 MiB peak under the benchmark's load, against 166–235 MiB (medians) once
 * trimmed, at the same request rates (paired {@code samples/bench/ab.sh}, README "Memory"). One
 * full collection right after the start lets the collector shrink the heap to what is live (its
 * {@code MaxHeapFreeRatio}); it grows again as far as the load needs, up to {@code -Xmx}.
 *
 * <p>Not done when the user sized the starting heap ({@code -Xms}, {@code -XX:InitialHeapSize},
 * {@code MinHeapSize}, {@code InitialRAMPercentage}: that heap is theirs), where explicit
 * collections are disabled, or where the JVM does not say (no HotSpot management bean). An
 * embedding application chooses its own JVM's flags; this is the command-line proxy's choice.
 */
final class HeapTrim {
  /** The flags by which a user sizes the heap a JVM starts with. */
  static final List<String> STARTING_HEAP_FLAGS =
      List.of("InitialHeapSize", "MinHeapSize", "InitialRAMPercentage");

  private HeapTrim() {}

  /** Trims the heap unless {@link #wanted} says not to; logs what was committed before and after, at debug. */
  static void afterStart() {
    HotSpotDiagnosticMXBean hotSpot;
    try {
      hotSpot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
    } catch (RuntimeException | LinkageError e) {
      return;
    }
    if (hotSpot == null || !wanted(name -> option(hotSpot, name))) {
      return;
    }
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    long before = memory.getHeapMemoryUsage().getCommitted();
    System.gc();
    long after = memory.getHeapMemoryUsage().getCommitted();
    LoggerFactory.getLogger(HeapTrim.class).debug("heap_trimmed committed_mb={} was_mb={} max_mb={}",
        after >> 20, before >> 20, memory.getHeapMemoryUsage().getMax() >> 20);
  }

  /**
   * True unless a flag of {@link #STARTING_HEAP_FLAGS} was set other than by the JVM itself, or
   * {@code DisableExplicitGC} is on; {@code option} gives a flag, or empty if this JVM has none
   * of that name.
   */
  static boolean wanted(Function<String, Optional<VMOption>> option) {
    for (String name : STARTING_HEAP_FLAGS) {
      Optional<VMOption> flag = option.apply(name);
      if (flag.isPresent() && flag.get().getOrigin() != VMOption.Origin.DEFAULT
          && flag.get().getOrigin() != VMOption.Origin.ERGONOMIC) {
        return false;
      }
    }
    return option.apply("DisableExplicitGC").map(flag -> !flag.getValue().equals("true")).orElse(true);
  }

  private static Optional<VMOption> option(HotSpotDiagnosticMXBean hotSpot, String name) {
    try {
      return Optional.of(hotSpot.getVMOption(name));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }
}
