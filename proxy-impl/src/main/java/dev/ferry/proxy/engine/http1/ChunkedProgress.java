package dev.ferry.proxy.engine.http1;

/**
 * Follows a chunked request body's framing (RFC 9112 §7.1) as its bytes arrive, without keeping
 * them: how far it has come, whether it has ended, and at least how many bytes it still needs.
 * A connection receiving such a body on disk before its exchange feeds it every byte it takes;
 * {@link #feed} says how many of them were the body's (the rest start the next request).
 *
 * <p>It stops ({@link #stopped()}) at a body past its limit and at framing
 * {@link ChunkedInputStream} refuses, though not at all of it (a trailer line ending in a bare
 * LF, an extension a byte over the decoder's limit): the exchange's decoder then reads on and
 * judges. Stopping is always safe, as the body then streams; following a little further than
 * the decoder would only delays its 400. It never ends a body later than the decoder does.
 */
public final class ChunkedProgress {
  /**
   * The fewest bytes a body can still take after a chunk's data, counted low: its CRLF, the last
   * chunk's "0" CRLF, and at least one byte ending the trailer section (the decoder wants CRLF).
   */
  private static final int AFTER_DATA = 6;
  private static final int MAX_SIZE_LINE = 4096;

  private enum State { SIZE, EXTENSION, SIZE_LF, DATA, DATA_CR, DATA_LF, TRAILER_START, TRAILER, END_LF, DONE, STOPPED }

  private final long maxBodyBytes;
  private final int maxTrailerBytes;
  private State state = State.SIZE;
  private long size;
  private int lineBytes;
  private long chunkLeft;
  private long total;
  private int trailerBytes;

  /**
   * @param maxBodyBytes the most data bytes to follow; a body declaring more stops it
   * @param maxTrailerBytes the most bytes of trailer fields
   */
  public ChunkedProgress(long maxBodyBytes, int maxTrailerBytes) {
    this.maxBodyBytes = maxBodyBytes;
    this.maxTrailerBytes = maxTrailerBytes;
  }

  /**
   * Follows {@code bytes[from, to)}, which come next in the body; returns how many of them are
   * the body's (all of them, unless it ends or stops among them).
   */
  public int feed(byte[] bytes, int from, int to) {
    int i = from;
    while (i < to && state != State.DONE && state != State.STOPPED) {
      if (state == State.DATA) {
        int n = (int) Math.min(chunkLeft, to - i);
        chunkLeft -= n;
        i += n;
        if (chunkLeft == 0) {
          state = State.DATA_CR;
        }
      } else {
        step(bytes[i++]);
      }
    }
    return i - from;
  }

  private void step(byte b) {
    switch (state) {
      case SIZE -> {
        int digit = HeadScan.hexValue(b);
        if (digit >= 0 && lineBytes < 15) {
          size = size * 16 + digit;
          lineBytes++;
          if (size > maxBodyBytes - total) {
            state = State.STOPPED;
          }
        } else if (lineBytes > 0 && (b == ';' || b == ' ' || b == '\t')) {
          state = State.EXTENSION;
        } else {
          state = lineBytes > 0 && b == '\r' ? State.SIZE_LF : State.STOPPED;
        }
      }
      case EXTENSION -> {
        if (b == '\r') {
          state = State.SIZE_LF;
        } else if (b == '\n' || (b >= 0 && b < 0x20 && b != '\t') || b == 0x7f || ++lineBytes > MAX_SIZE_LINE) {
          state = State.STOPPED;
        }
      }
      case SIZE_LF -> {
        if (b != '\n') {
          state = State.STOPPED;
        } else if (size == 0) {
          state = State.TRAILER_START;
        } else {
          total += size;
          chunkLeft = size;
          size = 0;
          lineBytes = 0;
          state = State.DATA;
        }
      }
      case DATA_CR -> state = b == '\r' ? State.DATA_LF : State.STOPPED;
      case DATA_LF -> state = b == '\n' ? State.SIZE : State.STOPPED;
      case TRAILER_START -> state = b == '\r' ? State.END_LF : b == '\n' ? State.DONE : trailer(b);
      case TRAILER -> state = b == '\n' ? State.TRAILER_START : trailer(b);
      case END_LF -> state = b == '\n' ? State.DONE : State.STOPPED;
      default -> throw new IllegalStateException(state.name());
    }
  }

  /** A byte of a trailer field line: a control character other than HTAB and CR is never one. */
  private State trailer(byte b) {
    boolean control = (b >= 0 && b < 0x20 && b != '\t' && b != '\r') || b == 0x7f;
    return control || ++trailerBytes > maxTrailerBytes ? State.STOPPED : State.TRAILER;
  }

  /** True once the body's last chunk and the empty line after its trailer fields have come. */
  public boolean done() {
    return state == State.DONE;
  }

  /** True if the body stopped being followed: malformed as far as it came, or past the limit. */
  public boolean stopped() {
    return state == State.STOPPED;
  }

  /** The data bytes of the chunks so far. */
  public long dataBytes() {
    return total;
  }

  /**
   * The fewest bytes the body can still take before it ends (0 once it has ended or stopped): a
   * read of this many cannot reach past it.
   */
  public long minRemaining() {
    return switch (state) {
      case DATA -> chunkLeft + AFTER_DATA;
      case DATA_CR -> AFTER_DATA;
      case DATA_LF -> AFTER_DATA - 1;
      // A new line: "0" CRLF LF. After a size so far: the rest of its line (CRLF at least), then
      // for a last chunk an LF, else its data and the end.
      case SIZE -> lineBytes == 0 ? 4 : size == 0 ? 3 : 2 + size + AFTER_DATA;
      case EXTENSION -> size == 0 ? 3 : 2 + size + AFTER_DATA;
      case SIZE_LF -> size == 0 ? 2 : 1 + size + AFTER_DATA;
      case TRAILER_START, END_LF -> 1;
      case TRAILER -> 2;
      case DONE, STOPPED -> 0;
    };
  }
}
