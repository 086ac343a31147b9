package dev.ferry.proxy.engine.cache;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.Headers;
import dev.ferry.proxy.engine.io.BlockInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Streams a response body to the client while copying it for the cache. The copy is handed
 * over only when the body ended cleanly with every byte; a body that outgrows the entry limit
 * or fails is never stored. One whose client leaves is read to its end for the cache.
 */
public final class StoringBody implements Body {
  private final Body body;
  private final long maxBytes;
  private final Consumer<ByteBuffer> store;
  private final StoreOutcome outcome;
  private final AtomicBoolean released = new AtomicBoolean();
  private InputStream opened;

  /**
   * @param outcome told once whether the copy was stored, outgrew the limit or was given up, so
   *     that requests waiting for this response go on, and how
   */
  StoringBody(Body body, long maxBytes, Consumer<ByteBuffer> store, StoreOutcome outcome) {
    this.body = body;
    this.maxBytes = maxBytes;
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
      private Copy copy = new Copy(
          (int) Math.min(Math.max(expected, 256), Math.min(maxBytes, 1 << 20)));

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
        } else {
          copy.write(target, offset, n);
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
          copy = null;
          release(tell);
        }
      }
    };
    return opened;
  }

  /** The copy, handed over as a view of its own array: the store trims or moves it once. */
  private static final class Copy extends ByteArrayOutputStream {
    Copy(int size) {
      super(size);
    }

    ByteBuffer view() {
      return ByteBuffer.wrap(buf, 0, count);
    }
  }
}
