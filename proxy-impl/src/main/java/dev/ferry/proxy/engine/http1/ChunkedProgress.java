package dev.ferry.proxy.engine.http1;

/**
 * Follows a chunked request body's framing (RFC 9112 §7.1) as its bytes arrive, without keeping
 * them: how far it has come, whether it has ended, and at least how many bytes it still needs.
 * A connection receiving such a body before its exchange feeds it the body's bytes;
 * {@link #feed} says how many of them were the body's (the rest start the next request). An
 * event loop follows an answer's chunks with it as it relays them, and {@link #decode} leaves
 * their data without the framing for a client that cannot take chunks.
 *
 * <p>It judges the framing as {@link ChunkedInputStream} does (sizes, extensions, the CRLF after
 * each chunk's data, and the trailer section as {@link HeadParser#readTrailers} reads it: field
 * lines of a token name and a colon, no folding, no control characters, within the header size
 * and count limits), so that a body awaited whole and malformed is refused before any of it
 * goes upstream ({@link #refusal()}). It also stops, with no refusal, at a body past its limit:
 * that body then streams, and the decoder reads on and judges.
 */
public final class ChunkedProgress {
  /**
   * The fewest bytes a body can still take after a chunk's data, counted low: its CRLF, the last
   * chunk's "0" CRLF, and at least one byte ending the trailer section (the decoder wants CRLF).
   */
  private static final int AFTER_DATA = 6;
  private static final int MAX_SIZE_LINE = 4096;

  private enum State {
    SIZE, SIZE_BWS, EXTENSION, SIZE_LF, DATA, DATA_CR, DATA_LF,
    TRAILER_START, TRAILER_NAME, TRAILER_VALUE, TRAILER_LF, END_LF, DONE, STOPPED
  }

  private final long maxBodyBytes;
  private final int maxTrailerBytes;
  private final int maxTrailerCount;
  private State state = State.SIZE;
  private long size;
  private int lineBytes;
  private long chunkLeft;
  private long total;
  private int trailerBytes;
  private int trailerCount;
  private HttpFailureException refusal;
  private int decoded;

  /**
   * @param maxBodyBytes the most data bytes to follow; a body declaring more stops it
   * @param maxTrailerBytes the most bytes of trailer fields (the decoder's header size limit)
   * @param maxTrailerCount the most trailer fields (the decoder's header count limit)
   */
  public ChunkedProgress(long maxBodyBytes, int maxTrailerBytes, int maxTrailerCount) {
    this.maxBodyBytes = maxBodyBytes;
    this.maxTrailerBytes = maxTrailerBytes;
    this.maxTrailerCount = maxTrailerCount;
  }

  /**
   * Follows {@code bytes[from, to)}, which come next in the body; returns how many of them are
   * the body's (all of them, unless it ends or stops among them).
   */
  public int feed(byte[] bytes, int from, int to) {
    return follow(bytes, from, to, false);
  }

  /**
   * As {@link #feed}, and moves the chunks' data among those bytes down to {@code bytes[from]}
   * on, in order, without the framing or trailer fields: a chunked body's content for a
   * recipient that cannot take chunks (an HTTP/1.0 client). {@link #decoded()} says how many
   * data bytes it moved.
   */
  public int decode(byte[] bytes, int from, int to) {
    return follow(bytes, from, to, true);
  }

  /** The data bytes the last {@link #decode} moved to the front of its range. */
  public int decoded() {
    return decoded;
  }

  private int follow(byte[] bytes, int from, int to, boolean decode) {
    int i = from;
    decoded = 0;
    while (i < to && state != State.DONE && state != State.STOPPED) {
      if (state == State.DATA) {
        int n = (int) Math.min(chunkLeft, to - i);
        if (decode) {
          System.arraycopy(bytes, i, bytes, from + decoded, n);
          decoded += n;
        }
        chunkLeft -= n;
        i += n;
        if (chunkLeft == 0) {
          state = State.DATA_CR;
        }
      } else {
        state = step(bytes[i++]);
      }
    }
    return i - from;
  }

  private State step(byte b) {
    if (state.compareTo(State.TRAILER_START) >= 0 && ++trailerBytes > maxTrailerBytes + 2) {
      // Counting the final CRLF too: past this, the fields alone overflow the decoder's budget.
      return refuse(ProxyFailure.HEADERS_TOO_LARGE, "trailer section too large");
    }
    return switch (state) {
      case SIZE -> size(b);
      case SIZE_BWS -> afterSize(b);
      case EXTENSION -> b == '\r' ? State.SIZE_LF
          : b == '\n' || isControl(b) || ++lineBytes > MAX_SIZE_LINE ? malformed("invalid chunk extension")
          : State.EXTENSION;
      case SIZE_LF -> b == '\n' ? sizeLineEnded() : malformed("chunk size line must end with CRLF");
      case DATA_CR -> b == '\r' ? State.DATA_LF : malformed("chunk data must be followed by CRLF");
      case DATA_LF -> b == '\n' ? State.SIZE : malformed("chunk data must be followed by CRLF");
      case TRAILER_START -> b == '\r' ? State.END_LF : trailerLine(b);
      case TRAILER_NAME -> b == ':' ? State.TRAILER_VALUE
          : HeadParser.isTokenChar(b) ? State.TRAILER_NAME
          : malformed("invalid character in field name (whitespace before colon?)");
      case TRAILER_VALUE -> b == '\r' ? State.TRAILER_LF
          : isControl(b) ? malformed("control character in field value") : State.TRAILER_VALUE;
      case TRAILER_LF -> b == '\n' ? State.TRAILER_START : malformed("control character in field value");
      case END_LF -> b == '\n' ? State.DONE : malformed("line must end with CRLF");
      default -> throw new IllegalStateException(state.name());
    };
  }

  private State size(byte b) {
    int digit = HeadScan.hexValue(b);
    if (digit >= 0) {
      if (lineBytes == MAX_SIZE_LINE) {
        return malformed("chunk size line too long");
      }
      if (size > ChunkedInputStream.MAX_BEFORE_DIGIT) {
        return malformed("chunk size too large");
      }
      size = size * 16 + digit;
      lineBytes++;
      // Past the limit the body streams instead, and the decoder judges the rest.
      return size > maxBodyBytes - total ? State.STOPPED : State.SIZE;
    }
    return lineBytes > 0 ? afterSize(b) : malformed("invalid chunk size");
  }

  /** What may follow a size, as the decoder reads it: whitespace, then an extension or CRLF. */
  private State afterSize(byte b) {
    if (b == ' ' || b == '\t' || b == ';') {
      if (++lineBytes > MAX_SIZE_LINE) { // the decoder counts these bytes of the line too
        return malformed("chunk size line too long");
      }
      return b == ';' ? State.EXTENSION : State.SIZE_BWS;
    }
    return b == '\r' ? State.SIZE_LF : malformed("invalid chunk size");
  }

  private State sizeLineEnded() {
    if (size == 0) {
      return State.TRAILER_START;
    }
    total += size;
    chunkLeft = size;
    size = 0;
    lineBytes = 0;
    return State.DATA;
  }

  /** The first byte of a trailer field line: its name's (no folding, no empty name). */
  private State trailerLine(byte b) {
    if (!HeadParser.isTokenChar(b)) {
      return malformed(b == ' ' || b == '\t' ? "obsolete line folding is not allowed"
          : "header line without a field name and colon");
    }
    if (++trailerCount > maxTrailerCount) {
      return refuse(ProxyFailure.HEADERS_TOO_LARGE, "too many header fields");
    }
    return State.TRAILER_NAME;
  }

  /** A control character other than HTAB: never part of a line. */
  private static boolean isControl(byte b) {
    return (b >= 0 && b < 0x20 && b != '\t') || b == 0x7f;
  }

  private State malformed(String detail) {
    return refuse(ProxyFailure.MALFORMED_REQUEST, detail);
  }

  private State refuse(ProxyFailure failure, String detail) {
    refusal = new HttpFailureException(failure, detail);
    return State.STOPPED;
  }

  /** True once the body's last chunk and the empty line after its trailer fields have come. */
  public boolean done() {
    return state == State.DONE;
  }

  /** True if the body stopped being followed: malformed as far as it came, or past the limit. */
  public boolean stopped() {
    return state == State.STOPPED;
  }

  /**
   * What the decoder will answer the body, once this stopped at framing it refuses (a 400, or a
   * 431 for trailers past the limits); null while it follows, once the body ended, or when it
   * stopped at its limit.
   */
  public HttpFailureException refusal() {
    return refusal;
  }

  /** The data bytes of the chunks so far. */
  public long dataBytes() {
    return total;
  }

  /**
   * The body's length once it has ended without trailer fields, else -1: what it can go on with
   * as a {@code Content-Length} (trailers need the chunked framing to travel).
   */
  public long wholeLength() {
    return done() && trailerCount == 0 ? total : -1;
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
      case SIZE_BWS, EXTENSION -> size == 0 ? 3 : 2 + size + AFTER_DATA;
      case SIZE_LF -> size == 0 ? 2 : 1 + size + AFTER_DATA;
      case TRAILER_START, TRAILER_LF, END_LF -> 1;
      case TRAILER_NAME, TRAILER_VALUE -> 2;
      case DONE, STOPPED -> 0;
    };
  }
}
