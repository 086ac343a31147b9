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

  /** A JVM whose starting-heap flags have these origins (the others absent), with DisableExplicitGC as given. */
  private static java.util.function.Function<String, Optional<VMOption>> flags(Map<String, Origin> origins,
      String disableExplicitGc) {
    return name -> name.equals("DisableExplicitGC")
        ? Optional.of(new VMOption(name, disableExplicitGc, true, Origin.DEFAULT))
        : Optional.ofNullable(origins.get(name)).map(origin -> new VMOption(name, "0", false, origin));
  }
}
