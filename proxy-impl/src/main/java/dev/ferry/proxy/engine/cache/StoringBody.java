package dev.ferry.proxy.engine.cache;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.Headers;
import dev.ferry.proxy.engine.io.BlockInputStream;
import dev.ferry.proxy.engine.io.ByteBudget;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Streams a response body to the client while copying it for the cache ({@link CacheFill}). The
 * copy is handed over only when the body ended cleanly with every byte; a body that outgrows the
 * entry limit or fails is never stored. One whose client leaves is read to its end for the cache.
 */
public final class StoringBody implements Body {
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
    CacheFill copy = new CacheFill(body.contentLength(), maxBytes, filling, store, new StoreOutcome() {
      @Override
      public void finished() {
        release(outcome::finished);
      }

      @Override
      public void refused() {
        release(outcome::refused);
      }

      @Override
      public void abandoned() {
        release(outcome::abandoned);
      }
    });
    opened = new BlockInputStream() {
      @Override
      public int read(byte[] target, int offset, int length) throws IOException {
        int n;
        try {
          n = in.read(target, offset, length);
        } catch (IOException e) {
          copy.abandon();
          throw e;
        }
        if (n < 0) {
          copy.ended();
        } else {
          copy.take(target, offset, n);
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
          while (copy.active() && read(rest, 0, rest.length) >= 0) {
            // read() keeps the copy, stores it at its end, or abandons it
          }
        } catch (IOException e) {
          // The upstream failed too: read() abandoned the copy.
        } finally {
          copy.abandon();
          in.close();
        }
      }
    };
    return opened;
  }
}
