package dev.ferry.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * An OutOfMemoryError that ends a thread ends the CLI: it had lost its watchdog, parker and
 * sweeper threads and went on accepting connections it never answered (probe c28).
 */
class MemoryGuardsTest {
  private final List<Integer> halted = new ArrayList<>();
  private final Thread.UncaughtExceptionHandler handler = MemoryGuards.exitOnOutOfMemory(halted::add);

  @Test
  void haltsOnAnOutOfMemoryError() {
    String printed = stderrOf(() -> handler.uncaughtException(new Thread("ferry-watchdog-1"),
        new OutOfMemoryError("Java heap space")));
    assertThat(halted).containsExactly(1);
    assertThat(printed).startsWith("ferry: out of memory; exiting");
  }

  @Test
  void printsOtherFailuresAndGoesOn() {
    String printed = stderrOf(() -> handler.uncaughtException(new Thread("worker"),
        new IllegalStateException("broken")));
    assertThat(halted).isEmpty();
    assertThat(printed).startsWith("Exception in thread \"worker\" java.lang.IllegalStateException: broken");
  }

  private static String stderrOf(Runnable action) {
    PrintStream err = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      action.run();
    } finally {
      System.setErr(err);
    }
    return captured.toString(StandardCharsets.UTF_8);
  }
}
