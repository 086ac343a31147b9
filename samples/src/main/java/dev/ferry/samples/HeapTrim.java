package dev.ferry.samples;

import com.sun.management.HotSpotDiagnosticMXBean;
import com.sun.management.VMOption;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives back, once the proxy has started, the heap the JVM committed at launch by its own rule:
 * without {@code -Xms}, a 64th of the machine's memory (384 MiB on a 24 GiB machine), whatever
 * the proxy needs. A proxy's live heap is a few MiB, but G1 cycles its young generation through
 * all of the committed heap, so the process's resident memory was set by the machine's RAM, not
 * by its load: about 335 MiB peak under the benchmark's load. One full collection right after the
 * start lets the collector shrink the heap; it grows again as far as the load needs, up to
 * {@code -Xmx}.
 *
 * <p>On G1 the heap is trimmed to a quarter of that starting size, not to what is live: G1 grows
 * a heap below a quarter of its starting size by half the distance back to it in one step (its
 * rule for a heap shrunk too far), and it grows a small heap at the first young collections of a
 * load, while the compilers still compete for the CPU. A heap trimmed to what is live (27 MiB)
 * went back to 204 MiB within two seconds of the benchmark's load and peaked at 241 MiB of RSS;
 * one trimmed to the quarter grows in small steps, if at all (samples/bench/README.md, "Memory"). The
 * one or two collections after the first that do it run with {@code MinHeapFreeRatio} and
 * {@code MaxHeapFreeRatio} set for that size, and both are put back at once.
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

  private static final Logger LOG = LoggerFactory.getLogger(HeapTrim.class);

  private HeapTrim() {}

  /** Trims the heap unless {@link #wanted} says not to; logs what was committed before and after, at debug. */
  static void afterStart() {
    HotSpotDiagnosticMXBean hotSpot;
    try {
      hotSpot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
    } catch (RuntimeException | LinkageError e) {
      return;
    }
    Function<String, Optional<VMOption>> option = name -> option(hotSpot, name);
    if (hotSpot == null || !wanted(option)) {
      return;
    }
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    long before = memory.getHeapMemoryUsage().getCommitted();
    System.gc();
    long floor = g1Floor(option);
    if (memory.getHeapMemoryUsage().getCommitted() < floor) {
      regrowTo(hotSpot, option, memory, floor);
    }
    LOG.debug("heap_trimmed committed_mb={} was_mb={} floor_mb={} max_mb={}",
        memory.getHeapMemoryUsage().getCommitted() >> 20, before >> 20, floor >> 20,
        memory.getHeapMemoryUsage().getMax() >> 20);
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

  /**
   * The committed heap below which G1 would grow back halfway to its starting size: a quarter of
   * {@code InitialHeapSize}, plus a MiB since G1 commits whole regions; 0 on another collector or
   * where the JVM does not say.
   */
  static long g1Floor(Function<String, Optional<VMOption>> option) {
    boolean g1 = option.apply("UseG1GC").map(flag -> flag.getValue().equals("true")).orElse(false);
    if (!g1) {
      return 0;
    }
    return option.apply("InitialHeapSize").map(flag -> Long.parseLong(flag.getValue()) / 4 + (1 << 20)).orElse(0L);
  }

  /**
   * The free share of a heap of {@code size} bytes holding {@code used}, in whole per cent rounded
   * down, between 0 and 99. G1 counts a heap's used part in whole regions, so a heap that keeps
   * this share free is often larger than {@code size} (113 against 97 MiB for 6 MiB used), and
   * sometimes smaller: {@link #regrowTo} starts a per cent below it and asks for more while the
   * heap stays short.
   */
  static int freeRatio(long used, long size) {
    long percent = 100 - (100 * used + size - 1) / size;
    return (int) Math.max(0, Math.min(99, percent));
  }

  /**
   * Full collections that leave at least {@code floor} committed: for their length the collector's
   * free-heap ratios ask for a per cent less than the share of {@code floor} that the live heap
   * leaves free (G1 grows the heap to it), one per cent more each time the heap stayed short, four
   * times at most (a collection of a few MiB live takes 7–14 ms); both ratios are put back however
   * it ends.
   */
  private static void regrowTo(HotSpotDiagnosticMXBean hotSpot, Function<String, Optional<VMOption>> option,
      MemoryMXBean memory, long floor) {
    Optional<VMOption> min = option.apply("MinHeapFreeRatio");
    Optional<VMOption> max = option.apply("MaxHeapFreeRatio");
    if (min.isEmpty() || max.isEmpty()) {
      return;
    }
    int oldMin = Integer.parseInt(min.get().getValue());
    int oldMax = Integer.parseInt(max.get().getValue());
    try {
      int ratio = Math.max(0, freeRatio(memory.getHeapMemoryUsage().getUsed(), floor) - 1);
      for (int attempt = 0; attempt < 4 && ratio <= 99 && memory.getHeapMemoryUsage().getCommitted() < floor;
          attempt++, ratio++) {
        // The JVM refuses a minimum above the maximum, so the maximum moves first and back last.
        hotSpot.setVMOption("MaxHeapFreeRatio", Integer.toString(Math.max(ratio, oldMax)));
        hotSpot.setVMOption("MinHeapFreeRatio", Integer.toString(ratio));
        System.gc();
      }
    } catch (RuntimeException e) {
      LOG.debug("heap_regrow_skipped reason=\"{}\"", e.toString());
    } finally {
      try {
        hotSpot.setVMOption("MinHeapFreeRatio", Integer.toString(oldMin));
        hotSpot.setVMOption("MaxHeapFreeRatio", Integer.toString(oldMax));
      } catch (RuntimeException e) {
        LOG.warn("heap_ratios_not_restored min={} max={} reason=\"{}\"", oldMin, oldMax, e.toString());
      }
    }
  }

  private static Optional<VMOption> option(HotSpotDiagnosticMXBean hotSpot, String name) {
    try {
      return Optional.of(hotSpot.getVMOption(name));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }
}
