package dev.ferry.samples;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.management.VMOption;
import com.sun.management.VMOption.Origin;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** When the command-line proxy gives back the heap its JVM committed at launch. */
class HeapTrimTest {
  @Test
  void trimsAHeapTheJvmSizedItself() {
    assertThat(HeapTrim.wanted(flags(Map.of("InitialHeapSize", Origin.ERGONOMIC, "MinHeapSize", Origin.ERGONOMIC,
        "InitialRAMPercentage", Origin.DEFAULT), "false"))).isTrue();
  }

  @Test
  void keepsAStartingHeapTheUserSized() {
    for (String flag : HeapTrim.STARTING_HEAP_FLAGS) {
      for (Origin origin : new Origin[] {Origin.VM_CREATION, Origin.ENVIRON_VAR, Origin.CONFIG_FILE}) {
        assertThat(HeapTrim.wanted(flags(Map.of(flag, origin), "false"))).as("%s from %s", flag, origin).isFalse();
      }
    }
  }

  @Test
  void leavesTheHeapWhereExplicitCollectionsAreOff() {
    assertThat(HeapTrim.wanted(flags(Map.of(), "true"))).isFalse();
  }

  @Test
  void trimsOnAJvmWithoutTheseFlags() {
    assertThat(HeapTrim.wanted(name -> Optional.empty())).isTrue();
  }

  @Test
  void keepsAQuarterOfTheStartingHeapOnG1() {
    Map<String, String> values = Map.of("UseG1GC", "true", "InitialHeapSize", Long.toString(384L << 20));
    assertThat(HeapTrim.g1Floor(values(values))).isEqualTo(97L << 20);
  }

  @Test
  void keepsNoFloorOnAnotherCollector() {
    assertThat(HeapTrim.g1Floor(values(Map.of("UseG1GC", "false", "InitialHeapSize", "402653184")))).isZero();
    assertThat(HeapTrim.g1Floor(values(Map.of("UseG1GC", "true")))).isZero();
    assertThat(HeapTrim.g1Floor(name -> Optional.empty())).isZero();
  }

  @Test
  void asksForTheFreeShareThatLeavesTheFloor() {
    assertThat(HeapTrim.freeRatio(6L << 20, 97L << 20)).isEqualTo(93);
    assertThat(HeapTrim.freeRatio(97L << 20, 97L << 20)).isZero();
    assertThat(HeapTrim.freeRatio(200L << 20, 97L << 20)).isZero();
    assertThat(HeapTrim.freeRatio(1, 97L << 20)).isEqualTo(99);
  }

  /** A JVM with these flags' values, set by the JVM itself. */
  private static java.util.function.Function<String, Optional<VMOption>> values(Map<String, String> values) {
    return name -> Optional.ofNullable(values.get(name)).map(value -> new VMOption(name, value, false, Origin.ERGONOMIC));
  }

  /** A JVM whose starting-heap flags have these origins (the others absent), with DisableExplicitGC as given. */
  private static java.util.function.Function<String, Optional<VMOption>> flags(Map<String, Origin> origins,
      String disableExplicitGc) {
    return name -> name.equals("DisableExplicitGC")
        ? Optional.of(new VMOption(name, disableExplicitGc, true, Origin.DEFAULT))
        : Optional.ofNullable(origins.get(name)).map(origin -> new VMOption(name, "0", false, origin));
  }
}
