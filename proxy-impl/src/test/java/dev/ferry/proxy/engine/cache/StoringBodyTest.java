package dev.ferry.proxy.engine.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.engine.io.ByteBudget;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The copy a cache fill keeps of a body as it streams to the client. */
class StoringBodyTest {
  private static final int MIB = 1 << 20;

  private final List<ByteBuffer> stored = new ArrayList<>();
  private final List<String> outcomes = new ArrayList<>();
  private final StoreOutcome outcome = new StoreOutcome() {
    @Override
    public void finished() {
      outcomes.add("finished");
    }

    @Override
    public void abandoned() {
      outcomes.add("abandoned");
    }
  };

  /**
   * A body declared at 1 MiB holds only about what has arrived while it trickles in: sized by
   * its declared length up front, 150 slow fills ran a 256 MiB heap out of memory (probe
   * resources F1). Whole, it is stored exactly, and the budget is given back.
   */
  @Test
  void growsTheCopyWithTheBytesThatArriveNotTheDeclaredLength() throws Exception {
    byte[] content = bytes(MIB);
    ByteBudget filling = new ByteBudget(64L * MIB);
    InputStream in = new StoringBody(Body.of(new ByteArrayInputStream(content), MIB), MIB, filling,
        stored::add, outcome).stream();

    assertThat(in.read(new byte[1024])).isEqualTo(1024);
    assertThat(filling.taken()).as("bytes held after the first KiB").isLessThanOrEqualTo(16 * 1024);
    byte[] rest = in.readAllBytes();
    in.close();

    assertThat(rest).hasSize(MIB - 1024);
    assertThat(outcomes).containsExactly("finished");
    assertThat(stored).hasSize(1);
    assertThat(stored.get(0).remaining()).isEqualTo(MIB);
    assertThat(stored.get(0).array()).as("stored as its own array, not copied again").hasSize(MIB);
    assertThat(filling.taken()).isZero();
  }

  /** Past the budget for fills under way the copy is given up; the client still gets every byte. */
  @Test
  void givesUpTheCopyWhenTheBudgetForFillsIsSpent() throws Exception {
    byte[] content = bytes(256 * 1024);
    ByteBudget filling = new ByteBudget(64 * 1024);
    InputStream in = new StoringBody(Body.of(new ByteArrayInputStream(content), -1), MIB, filling,
        stored::add, outcome).stream();

    assertThat(in.readAllBytes()).isEqualTo(content);
    in.close();

    assertThat(outcomes).containsExactly("abandoned");
    assertThat(stored).isEmpty();
    assertThat(filling.taken()).isZero();
  }

  private static byte[] bytes(int length) {
    byte[] bytes = new byte[length];
    Arrays.fill(bytes, (byte) 'x');
    bytes[length - 1] = 'y';
    return bytes;
  }
}
