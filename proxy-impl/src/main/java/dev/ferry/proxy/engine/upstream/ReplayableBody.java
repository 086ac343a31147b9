package dev.ferry.proxy.engine.upstream;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.Headers;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * A request body that keeps a copy of what has been read of it, up to a limit, so that a request
 * can be sent again on a fresh connection. Nothing is read ahead: the body streams upstream as the
 * client sends it (a POST's upstream sees its first bytes at once, and an {@code Expect:
 * 100-continue} is answered only when they are wanted), and a request that failed before its
 * body was read, a connection refused say, is resent with nothing copied at all. Each
 * {@link #stream()} replays the copy, then goes on reading the original where the last one
 * stopped. Once more than the limit has been read, the copy is dropped and the body can no
 * longer be replayed. Trailers come from the original body once it has been read. Not
 * thread-safe: one exchange's thread uses it.
 */
public final class ReplayableBody implements Body {
  private final Body original;
  private final int maxBytes;
  private InputStream source;
  private byte[] copy = new byte[0];
  private int copied;
  private boolean overflowed;

  private ReplayableBody(Body original, int maxBytes) {
    this.original = original;
    this.maxBytes = maxBytes;
  }

  /** Wraps {@code body}, keeping up to {@code maxBytes} of it for replays; reads nothing yet. */
  public static ReplayableBody of(Body body, int maxBytes) {
    return new ReplayableBody(body, maxBytes);
  }

  /** True while everything read of the body is kept, so it can be sent again from the start. */
  public boolean replayable() {
    return !overflowed;
  }

  @Override
  public long contentLength() {
    return original.contentLength();
  }

  /**
   * A stream from the body's first byte.
   *
   * @throws IllegalStateException if more than the limit was read, so the start is gone
   */
  @Override
  public InputStream stream() {
    if (overflowed) {
      throw new IllegalStateException("request body outgrew the retry buffer; it cannot be sent again");
    }
    return new Replay();
  }

  @Override
  public Headers trailers() {
    return original.trailers();
  }

  @Override
  public void close() throws IOException {
    original.close();
  }

  private InputStream source() throws IOException {
    if (source == null) {
      source = original.stream();
    }
    return source;
  }

  private void keep(byte[] bytes, int offset, int count) {
    if (overflowed) {
      return;
    }
    if (copied + count > maxBytes) {
      overflowed = true;
      copy = null;
      return;
    }
    if (copied + count > copy.length) {
      copy = Arrays.copyOf(copy, Math.min(maxBytes, Math.max(copied + count, copy.length * 2)));
    }
    System.arraycopy(bytes, offset, copy, copied, count);
    copied += count;
  }

  /** One attempt's view: the copy first, then the original from where reading stopped. */
  private final class Replay extends InputStream {
    private int position;

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] target, int offset, int length) throws IOException {
      if (length == 0) {
        return 0;
      }
      if (!overflowed && position < copied) {
        int n = Math.min(length, copied - position);
        System.arraycopy(copy, position, target, offset, n);
        position += n;
        return n;
      }
      int n = source().read(target, offset, length);
      if (n > 0) {
        keep(target, offset, n);
        position += n;
      }
      return n;
    }

    @Override
    public int available() throws IOException {
      if (!overflowed && position < copied) {
        return copied - position;
      }
      // Opening the original reads nothing (a 100 Continue waits for the first read), and says
      // how much of it is here: all of it, for a body awaited whole.
      return source().available();
    }

    @Override
    public void close() {
      // The original stays open for a replay; the body's owner closes it with the body.
    }
  }
}
