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
  private final Runnable finished;
  private final AtomicBoolean released = new AtomicBoolean();
  private InputStream opened;

  /**
   * @param finished runs once when the copy is stored or abandoned, so requests waiting for
   *     this response can go on
   */
  StoringBody(Body body, long maxBytes, Consumer<ByteBuffer> store, Runnable finished) {
    this.body = body;
    this.maxBytes = maxBytes;
    this.store = store;
    this.finished = finished;
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
    release();
    body.close();
  }

  private void release() {
    if (released.compareAndSet(false, true)) {
      finished.run();
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
          abandon();
          throw e;
        }
        if (copy == null) {
          return n;
        }
        if (n < 0) {
          if (expected < 0 || copy.size() == expected) {
            store.accept(copy.view());
          }
          abandon();
        } else if (copy.size() + n > maxBytes) {
          abandon();
        } else {
          copy.write(target, offset, n);
          if (copy.size() == expected) {
            // Store before the last bytes go out, so the client's next request can hit.
            store.accept(copy.view());
            abandon();
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
          abandon();
          in.close();
        }
      }

      private void abandon() {
        if (copy != null) {
          copy = null;
          release();
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
