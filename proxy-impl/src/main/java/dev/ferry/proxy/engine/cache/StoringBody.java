package dev.ferry.proxy.engine.cache;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.Headers;
import dev.ferry.proxy.engine.io.BlockInputStream;
import dev.ferry.proxy.engine.io.ByteBudget;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Streams a response body to the client while copying it for the cache. The copy is handed
 * over only when the body ended cleanly with every byte; a body that outgrows the entry limit
 * or fails is never stored. One whose client leaves is read to its end for the cache.
 *
 * <p>The copy grows with the bytes that arrive, not to the length the head declares, and takes
 * what it holds from the cache's {@code filling} budget: a copy that finds it spent is given up
 * and the body streams on uncached. Sized up front by the declared length (up to the 1 MiB entry
 * limit), 150 slow fills of distinct URLs ran a 256 MiB heap out of memory before a tenth of
 * their bytes came (probe resources F1).
 */
public final class StoringBody implements Body {
  /** A copy's first buffer at most: what most bodies need whole. */
  private static final int FIRST_BYTES = 16 * 1024;

  private final Body body;
  private final long maxBytes;
  private final ByteBudget filling;
  private final Consumer<ByteBuffer> store;
  private final StoreOutcome outcome;
  private final AtomicBoolean released = new AtomicBoolean();
  private InputStream opened;

  /**
   * @param outcome told once whether the copy was stored, outgrew the limit or was given up, so
   *     that requests waiting for this response go on, and how
   */
  StoringBody(Body body, long maxBytes, ByteBudget filling, Consumer<ByteBuffer> store,
      StoreOutcome outcome) {
    this.body = body;
    this.maxBytes = maxBytes;
    this.filling = filling;
    this.store = store;
    this.outcome = outcome;
  }

  @Override
  public long contentLength() {
    return body.contentLength();
  }

  @Override
  public Headers trailers() {
    return body.trailers();
  }

  /** Closing a body nobody read abandons the copy, so waiters for this response go on at once. */
  @Override
  public void close() throws IOException {
    if (opened != null) {
      opened.close();
      return;
    }
    release(outcome::abandoned);
    body.close();
  }

  /** Tells the outcome, once: {@code tell} is one of its methods. */
  private void release(Runnable tell) {
    if (released.compareAndSet(false, true)) {
      tell.run();
    }
  }

  @Override
  public InputStream stream() throws IOException {
    InputStream in = body.stream();
    long expected = body.contentLength();
    opened = new BlockInputStream() {
      private Copy copy = Copy.start(expected, maxBytes, filling);

      {
        if (copy == null) {
          release(outcome::abandoned);
        }
      }

      @Override
      public int read(byte[] target, int offset, int length) throws IOException {
        int n;
        try {
          n = in.read(target, offset, length);
        } catch (IOException e) {
          abandon(outcome::abandoned);
          throw e;
        }
        if (copy == null) {
          return n;
        }
        if (n < 0) {
          if (expected < 0 || copy.size() == expected) {
            store.accept(copy.view());
            abandon(outcome::finished);
          } else {
            abandon(outcome::abandoned);
          }
        } else if (copy.size() + n > maxBytes) {
          // Known only now (a chunked body, say): the waiters go upstream side by side, and the
          // URL's next misses too, as after a head that says so (probe h26: one by one).
          abandon(outcome::refused);
        } else if (!copy.write(target, offset, n)) {
          // The budget for copies under way is spent: this one goes on uncached.
          abandon(outcome::abandoned);
        } else {
          if (copy.size() == expected) {
            // Store before the last bytes go out, so the client's next request can hit.
            store.accept(copy.view());
            abandon(outcome::finished);
          }
        }
        return n;
      }

      @Override
      public int available() throws IOException {
        return in.available();
      }

      /**
       * Closed before its end (its client left): the rest is read for the cache all the same,
       * within the entry limit and the upstream's timeouts, so that the requests waiting for
       * this response hit rather than each going upstream, as nginx finishes a cache fill.
       */
      @Override
      public void close() throws IOException {
        try {
          byte[] rest = new byte[8192];
          while (copy != null && read(rest, 0, rest.length) >= 0) {
            // read() keeps the copy, stores it at its end, or abandons it
          }
        } catch (IOException e) {
          // The upstream failed too: read() abandoned the copy.
        } finally {
          abandon(outcome::abandoned);
          in.close();
        }
      }

      /** Drops the copy, if not yet done, and tells the outcome with {@code tell}. */
      private void abandon(Runnable tell) {
        if (copy != null) {
          copy.giveBack();
          copy = null;
          release(tell);
        }
      }
    };
    return opened;
  }

  /**
   * The copy: an array that grows by doubling, up to the declared length when there is one,
   * taking each growth from the budget. Handed over as a view of its own array, which the store
   * trims or moves once; the budget is given back when the copy is stored or dropped.
   */
  private static final class Copy {
    private final long cap;
    private final ByteBudget budget;
    private byte[] buf;
    private int count;

    private Copy(long cap, ByteBudget budget) {
      this.cap = cap;
      this.budget = budget;
    }

    /** A copy for a body of {@code expected} bytes (-1: unknown); null if the budget has no room. */
    static Copy start(long expected, long maxBytes, ByteBudget budget) {
      Copy copy = new Copy(expected >= 0 ? Math.min(expected, maxBytes) : maxBytes, budget);
      return copy.grow((int) Math.min(copy.cap, FIRST_BYTES)) ? copy : null;
    }

    int size() {
      return count;
    }

    /** Appends; false if the budget had no room for the growth this needed. */
    boolean write(byte[] bytes, int offset, int length) {
      int needed = count + length;
      if (needed > buf.length
          && !grow((int) Math.min(Math.max(needed, (long) buf.length * 2), Math.max(cap, needed)))) {
        return false;
      }
      System.arraycopy(bytes, offset, buf, count, length);
      count = needed;
      return true;
    }

    private boolean grow(int size) {
      int held = buf == null ? 0 : buf.length;
      if (!budget.tryTake(size - held)) {
        return false;
      }
      buf = buf == null ? new byte[size] : Arrays.copyOf(buf, size);
      return true;
    }

    ByteBuffer view() {
      return ByteBuffer.wrap(buf, 0, count);
    }

    void giveBack() {
      budget.give(buf.length);
    }
  }
}
