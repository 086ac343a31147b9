package dev.ferry.proxy.engine.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/** One request body's file: disk taken a step at a time as bytes come, read back once, in order. */
class BodySpoolTest {
  @TempDir Path directory;

  @Test
  void readsBackWhatWasWrittenInOrderAndGivesTheSpaceBackWhenClosed() throws Exception {
    ByteBudget budget = new ByteBudget(1 << 20);
    BodySpool spool = BodySpool.create(directory, budget);
    assertThat(spool.makeRoom(100_000)).isTrue();
    assertThat(spool.room()).as("one step").isEqualTo(64 * 1024);
    spool.append(bytes("hello "), 0, 6);
    spool.append(bytes("world"), 0, 5);
    assertThat(spool.unread()).isEqualTo(11);
    byte[] first = new byte[4];
    assertThat(spool.read(first, 0, 4)).isEqualTo(4);
    ByteBuffer rest = ByteBuffer.allocateDirect(100);
    assertThat(spool.read(rest)).as("only what is left").isEqualTo(7);
    assertThat(spool.read(rest)).isEqualTo(-1);
    assertThat(new String(first, StandardCharsets.ISO_8859_1) + StandardCharsets.ISO_8859_1.decode(rest.flip()))
        .isEqualTo("hello world");
    assertThat(budget.taken()).isEqualTo(64 * 1024);
    spool.close();
    spool.close();
    assertThat(budget.taken()).as("given back once").isZero();
  }

  @Test
  void takesSpaceOnlyAsItIsFilledAndNoMoreThanTheBudget() throws Exception {
    ByteBudget budget = new ByteBudget(100_000);
    try (BodySpool spool = BodySpool.create(directory, budget)) {
      assertThat(spool.makeRoom(10)).isTrue();
      assertThat(spool.room()).as("no more than wanted").isEqualTo(10);
      assertThat(spool.makeRoom(1_000_000)).as("room is left").isTrue();
      assertThat(budget.taken()).isEqualTo(10);
      spool.append(new byte[10], 0, 10);
      assertThat(spool.makeRoom(1_000_000)).isTrue();
      spool.append(new byte[64 * 1024], 0, 64 * 1024);
      assertThat(spool.makeRoom(1_000_000)).as("a further step would pass the budget").isFalse();
      assertThatThrownBy(() -> spool.append(new byte[1], 0, 1)).isInstanceOf(IllegalStateException.class);
      assertThat(budget.taken()).isEqualTo(10 + 64 * 1024);
    }
    assertThat(budget.taken()).isZero();
  }

  @Test
  @DisabledOnOs(value = OS.WINDOWS, disabledReason = "an open file cannot be deleted there: it goes when closed")
  void leavesNoNamedFileBehind() throws Exception {
    try (BodySpool spool = BodySpool.create(directory, new ByteBudget(1 << 20))) {
      spool.makeRoom(5);
      spool.append(bytes("12345"), 0, 5);
      try (Stream<Path> files = Files.list(directory)) {
        assertThat(files).as("unlinked at once on POSIX").isEmpty();
      }
    }
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.ISO_8859_1);
  }
}
