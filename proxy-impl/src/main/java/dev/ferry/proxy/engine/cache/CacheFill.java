package dev.ferry.proxy.engine.cache;

import dev.ferry.proxy.engine.io.ByteBudget;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * The cache's copy of a response body, fed its bytes as they pass to the client: stored when the
 * body ends cleanly with every byte, never when it outgrows the entry limit or breaks. Fed by
 * {@link StoringBody} as a thread reads the body, and by an event loop's exchange as it relays it
 * ({@link LoopFetch#fill}). Tells its {@link StoreOutcome} once how the copy ended.
 *
 * <p>The copy grows with the bytes that arrive, not to the length the head declares, and takes
 * what it holds from the cache's {@code filling} budget: a copy that finds it spent is given up
 * and the body goes on uncached. Sized up front by the declared length (up to the 1 MiB entry
 * limit), 150 slow fills of distinct URLs ran a 256 MiB heap out of memory before a tenth of
 * their bytes came (probe resources F1).
 *
 * <p>Not thread-safe: one reader or one loop feeds it.
 */
public final class CacheFill {
  /** A copy's first buffer at most: what most bodies need whole. */
  private static final int FIRST_BYTES = 16 * 1024;

  private final long expected;
  private final long maxBytes;
  private final ByteBudget budget;
  private final Consumer<ByteBuffer> store;
  private final StoreOutcome outcome;
  private final long cap;
  private byte[] buf;
  private int count;
  private boolean over;

  /**
   * A copy of a body of {@code expected} bytes (-1: unknown), stored by {@code store} at its end;
   * over at once, {@code outcome} told it was abandoned, if the budget has no room for its first
   * buffer.
   */
  CacheFill(long expected, long maxBytes, ByteBudget budget, Consumer<ByteBuffer> store, StoreOutcome outcome) {
    this.expected = expected;
    this.maxBytes = maxBytes;
    this.budget = budget;
    this.store = store;
    this.outcome = outcome;
    this.cap = expected >= 0 ? Math.min(expected, maxBytes) : maxBytes;
    if (!grow((int) Math.min(cap, FIRST_BYTES))) {
      over = true;
      outcome.abandoned();
    }
  }

  /** Whether the copy goes on: false once it is stored or given up. */
  public boolean active() {
    return !over;
  }

  /** The body's next {@code n} bytes, {@code bytes[offset]} on. */
  public void take(byte[] bytes, int offset, int n) {
    if (room(n)) {
      System.arraycopy(bytes, offset, buf, count, n);
      taken(n);
    }
  }

  /** The body's next {@code n} bytes, {@code buffer}'s from index {@code from}; its position is left alone. */
  public void take(ByteBuffer buffer, int from, int n) {
    if (room(n)) {
      buffer.get(from, buf, count, n);
      taken(n);
    }
  }

  /**
   * The body ended, as its framing says (or, for one delimited by its connection, with the
   * close): stored if every byte it declared came.
   */
  public void ended() {
    if (over) {
      return;
    }
    if (expected < 0 || count == expected) {
      store.accept(ByteBuffer.wrap(buf, 0, count));
      end(outcome::finished);
    } else {
      end(outcome::abandoned);
    }
  }

  /** The body broke, or will not be read to its end: nothing is stored. */
  public void abandon() {
    if (!over) {
      end(outcome::abandoned);
    }
  }

  /** False, the copy ended, if {@code n} more bytes outgrow the entry or the budget. */
  private boolean room(int n) {
    if (over || n <= 0) {
      return false;
    }
    if (count + (long) n > maxBytes) {
      // Known only now (a chunked body, say): the URL's next misses go upstream side by side,
      // as after a head that says so (probe h26: one by one).
      end(outcome::refused);
      return false;
    }
    int needed = count + n;
    if (needed > buf.length
        && !grow((int) Math.min(Math.max(needed, (long) buf.length * 2), Math.max(cap, needed)))) {
      // The budget for copies under way is spent: this one goes on uncached.
      end(outcome::abandoned);
      return false;
    }
    return true;
  }

  private void taken(int n) {
    count += n;
    if (count == expected) {
      // Stored before the last bytes go out, so that the client's next request can hit.
      ended();
    }
  }

  private boolean grow(int size) {
    int held = buf == null ? 0 : buf.length;
    if (!budget.tryTake(size - held)) {
      return false;
    }
    buf = buf == null ? new byte[size] : Arrays.copyOf(buf, size);
    return true;
  }

  /** Gives the budget back (the store trims or moves the array it was handed), then tells. */
  private void end(Runnable tell) {
    over = true;
    budget.give(buf.length);
    tell.run();
  }
}
