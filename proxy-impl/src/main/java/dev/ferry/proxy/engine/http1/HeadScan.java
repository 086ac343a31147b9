package dev.ferry.proxy.engine.http1;

import java.nio.charset.StandardCharsets;

/**
 * Judges a request head that is still arriving, as {@link HeadParser} would, without parsing it:
 * whether the bytes so far let the parser finish or refuse the head without waiting for more.
 * A connection on a selector asks this before it takes a thread for an exchange, so that a
 * client sending its head slowly (slowloris) is parked between its bytes.
 */
public final class HeadScan {
  private HeadScan() {}

  /**
   * True if the head parser can get to the end of, or to a fault in, the message head that
   * starts at {@code buffer[pos]} without reading past {@code limit}: the bytes hold the head's
   * empty last line; or a complete line the parser refuses (a first line that does not end in an
   * HTTP version, a field line without a colon or folded onto the one before, a line with a bare
   * CR or a control character); or they already reach a limit ({@code maxHeadBytes} in all,
   * {@code maxLineBytes} in a request line under way). The parser needs a line's end to judge
   * it, so bytes no head has (a TLS handshake sent to a plain port) wait like any other. True is
   * always safe: the parser then decides, reading on if it must.
   */
  public static boolean decidable(byte[] buffer, int pos, int limit, int maxLineBytes, int maxHeadBytes) {
    if (limit - pos >= maxHeadBytes) {
      return true;
    }
    boolean requestLine = false;
    boolean badByte = false;
    int lineStart = pos;
    for (int i = pos; i < limit; i++) {
      byte b = buffer[i];
      if (b == '\n') {
        if (badByte) {
          return true;
        }
        int lineEnd = i > lineStart && buffer[i - 1] == '\r' ? i - 1 : i;
        if (lineEnd == lineStart) {
          if (requestLine) {
            return true; // the empty line that ends the head
          }
          // Empty lines before the request line are skipped (RFC 9112 section 2.2).
        } else if (!requestLine) {
          if (!endsInHttpVersion(buffer, lineStart, lineEnd)) {
            return true;
          }
          requestLine = true;
        } else if (buffer[lineStart] == ' ' || buffer[lineStart] == '\t' || !contains(buffer, ':', lineStart, lineEnd)) {
          return true;
        }
        lineStart = i + 1;
      } else if (b == '\r' ? i + 1 < limit && buffer[i + 1] != '\n'
          : b >= 0 && b < 0x20 && b != '\t' || b == 0x7f) {
        badByte = true;
      }
    }
    return !requestLine && limit - lineStart > maxLineBytes + 1L; // the line and its CR
  }

  /**
   * The length of the whole request head that starts at {@code buffer[pos]}, up to and with the
   * empty line that ends it (empty lines before the request line included), or -1 if the bytes
   * to {@code limit} do not hold one.
   */
  public static int headLength(byte[] buffer, int pos, int limit) {
    FieldLines lines = new FieldLines(buffer, pos, limit);
    while (lines.next()) {
      // to the end of the head
    }
    return lines.headEnd < 0 ? -1 : lines.headEnd - pos;
  }

  /**
   * If the bytes from {@code buffer[pos]} to {@code limit} hold a whole request head that
   * declares a body to await whole, and not all of that body has arrived: how many bytes from
   * {@code pos} the request may take, head included; otherwise -1. To await whole: one
   * {@code Content-Length} of at most {@code maxLengthBytes} (the request then takes exactly
   * its head and that length), or {@code Transfer-Encoding: chunked} alone whose chunks so far
   * add up to at most {@code maxChunkedBytes} (the head and twice that, room for the chunks'
   * framing); either way no {@code Expect} (a client expecting 100 Continue waits for it before
   * it sends its body). Only when the bytes so far are well framed and simply end too soon; -1
   * for anything else, heads and bodies the parser will refuse included: -1 is always safe, as
   * the exchange then reads the body itself.
   */
  public static long pendingRequestBytes(byte[] buffer, int pos, int limit, long maxLengthBytes,
      int maxChunkedBytes) {
    long framing = bodyFraming(buffer, pos, limit, maxLengthBytes);
    if (framing >= -1) {
      return framing;
    }
    int head = (int) (-2 - framing);
    return chunksPending(buffer, pos + head, limit, maxChunkedBytes) ? head + 2L * maxChunkedBytes : -1;
  }

  /**
   * {@link #pendingRequestBytes} for a body framed by {@code Content-Length} only: -1 for a
   * chunked one.
   */
  public static long pendingLengthBytes(byte[] buffer, int pos, int limit, long maxLengthBytes) {
    return Math.max(-1, bodyFraming(buffer, pos, limit, maxLengthBytes));
  }

  /**
   * What the whole request head at {@code buffer[pos]} declares of its body, for awaiting it:
   * for one {@code Content-Length} of at most {@code maxLengthBytes} whose body has not all
   * arrived, how many bytes the request takes, head included; for {@code Transfer-Encoding:
   * chunked} alone, -2 minus the head's length; -1 for anything else (no whole head, no body, all
   * of it here, an {@code Expect}, framing the parser refuses).
   */
  public static long bodyFraming(byte[] buffer, int pos, int limit, long maxLengthBytes) {
    long length = -1;
    boolean chunked = false;
    FieldLines lines = new FieldLines(buffer, pos, limit);
    while (lines.next()) {
      if (lines.nameIs("content-length")) {
        if (length >= 0) {
          return -1; // repeated: the parser judges
        }
        length = smallNumber(buffer, lines.start + "content-length:".length(), lines.end, maxLengthBytes);
        if (length < 0) {
          return -1;
        }
      } else if (lines.nameIs("transfer-encoding")) {
        if (chunked || !valueIs(buffer, lines.start + "transfer-encoding:".length(), lines.end, "chunked")) {
          return -1;
        }
        chunked = true;
      } else if (lines.nameIs("expect")) {
        return -1;
      }
    }
    if (lines.headEnd < 0 || length >= 0 && chunked) {
      return -1; // no whole head yet; or both framings, which the parser refuses
    }
    long head = lines.headEnd - (long) pos;
    if (chunked) {
      return -2 - head;
    }
    return length > limit - lines.headEnd ? head + length : -1;
  }

  /**
   * The value of the field {@code name} (lower case) in the whole request head at
   * {@code buffer[pos]}, without the whitespace around it; null if the head is not all there, or
   * has no such field, or more than one.
   */
  public static String fieldValue(byte[] buffer, int pos, int limit, String name) {
    String value = null;
    FieldLines lines = new FieldLines(buffer, pos, limit);
    while (lines.next()) {
      if (lines.nameIs(name)) {
        if (value != null) {
          return null;
        }
        int from = valueStart(buffer, lines.start + name.length() + 1, lines.end);
        value = new String(buffer, from, valueEnd(buffer, from, lines.end) - from, StandardCharsets.ISO_8859_1);
      }
    }
    return lines.headEnd < 0 ? null : value;
  }

  /**
   * True if the request starting at {@code buffer[pos]} (after any empty lines) is a CONNECT, as
   * far as the bytes to {@code limit} tell.
   */
  public static boolean isConnect(byte[] buffer, int pos, int limit) {
    while (pos < limit && (buffer[pos] == '\r' || buffer[pos] == '\n')) {
      pos++;
    }
    String method = "CONNECT ";
    if (limit - pos < method.length()) {
      return false;
    }
    for (int i = 0; i < method.length(); i++) {
      if (buffer[pos + i] != method.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  /**
   * True if the chunked body from {@code buffer[pos]} is well framed so far, no larger than
   * {@code maxBodyBytes}, and not finished (its last chunk and the empty line after any trailer
   * fields not all buffered).
   */
  private static boolean chunksPending(byte[] buffer, int pos, int limit, int maxBodyBytes) {
    long total = 0;
    int i = pos;
    while (true) {
      int lineEnd = indexOf(buffer, '\n', i, limit);
      if (lineEnd < 0) {
        // A chunk-size line under way; a longer one, or one with a bare CR, is the parser's.
        return limit - i <= 64 && !holdsBareCr(buffer, i, limit);
      }
      int sizeEnd = i;
      long size = 0;
      while (sizeEnd < lineEnd && hexValue(buffer[sizeEnd]) >= 0) {
        size = size * 16 + hexValue(buffer[sizeEnd]);
        if (size > maxBodyBytes) {
          return false;
        }
        sizeEnd++;
      }
      if (sizeEnd == i || (buffer[sizeEnd] != ';' && buffer[sizeEnd] != '\r' && sizeEnd != lineEnd)
          || holdsBareCr(buffer, sizeEnd, lineEnd)) {
        return false;
      }
      total += size;
      if (total > maxBodyBytes) {
        return false;
      }
      i = lineEnd + 1;
      if (size == 0) {
        // Trailer fields, if any, then the empty line.
        while (true) {
          int end = indexOf(buffer, '\n', i, limit);
          if (end < 0) {
            return !holdsBareCr(buffer, i, limit);
          }
          if (end == i || (end == i + 1 && buffer[i] == '\r') || holdsBareCr(buffer, i, end)) {
            return false; // finished, or a line the decoder refuses
          }
          i = end + 1;
        }
      }
      if (i + size + 2 > limit) {
        return true; // the chunk's data, or the CRLF after it, still arriving
      }
      i += (int) size;
      if (buffer[i] != '\r' || buffer[i + 1] != '\n') {
        return false;
      }
      i += 2;
    }
  }

  /**
   * Whether the line from {@code from} to its LF at {@code lineEnd} holds a CR anywhere but just
   * before the LF: the decoder refuses it, so waiting for more of the body is pointless.
   */
  private static boolean holdsBareCr(byte[] buffer, int from, int lineEnd) {
    return indexOf(buffer, '\r', from, lineEnd - 1) >= 0;
  }

  private static int indexOf(byte[] buffer, char c, int from, int to) {
    for (int i = from; i < to; i++) {
      if (buffer[i] == c) {
        return i;
      }
    }
    return -1;
  }

  /** The value of a hex digit (either case), or -1 for any other byte. */
  static int hexValue(int b) {
    if (b >= '0' && b <= '9') {
      return b - '0';
    }
    int lower = b | 0x20;
    return lower >= 'a' && lower <= 'f' ? lower - 'a' + 10 : -1;
  }

  /** True if the field value is {@code value} (lower case, matched ignoring case), optional whitespace around it. */
  private static boolean valueIs(byte[] buffer, int start, int end, String value) {
    int from = valueStart(buffer, start, end);
    int to = valueEnd(buffer, from, end);
    return to - from == value.length() && regionIs(buffer, from, value);
  }

  /** True if the field line starts with {@code name} (lower case, matched ignoring case) and a colon. */
  private static boolean nameIs(byte[] buffer, int start, int end, String name) {
    return end - start > name.length() && buffer[start + name.length()] == ':' && regionIs(buffer, start, name);
  }

  /** True if the bytes from {@code start} spell {@code text} (lower case), ignoring case; the caller checks the length. */
  private static boolean regionIs(byte[] buffer, int start, String text) {
    for (int i = 0; i < text.length(); i++) {
      int b = buffer[start + i];
      if ((b >= 'A' && b <= 'Z' ? b + 32 : b) != text.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  /** Where a field value starts, past optional whitespace. */
  private static int valueStart(byte[] buffer, int start, int end) {
    while (start < end && (buffer[start] == ' ' || buffer[start] == '\t')) {
      start++;
    }
    return start;
  }

  /** Where a field value ends, before optional whitespace. */
  private static int valueEnd(byte[] buffer, int start, int end) {
    while (end > start && (buffer[end - 1] == ' ' || buffer[end - 1] == '\t')) {
      end--;
    }
    return end;
  }

  /** The field value as a number of at most {@code max}, optional whitespace around it; -1 otherwise. */
  private static long smallNumber(byte[] buffer, int valueFrom, int valueTo, long max) {
    int start = valueStart(buffer, valueFrom, valueTo);
    int end = valueEnd(buffer, start, valueTo);
    if (start == end) {
      return -1;
    }
    long value = 0;
    for (int i = start; i < end; i++) {
      if (buffer[i] < '0' || buffer[i] > '9') {
        return -1;
      }
      value = value * 10 + (buffer[i] - '0');
      if (value > max) {
        return -1;
      }
    }
    return value;
  }

  /** True if the line ends in " HTTP/" and three more bytes, as a request line must. */
  private static boolean endsInHttpVersion(byte[] buffer, int start, int end) {
    int version = end - 8;
    if (version - 1 <= start || buffer[version - 1] != ' ') {
      return false;
    }
    for (int i = 0; i < 5; i++) {
      if (buffer[version + i] != "HTTP/".charAt(i)) {
        return false;
      }
    }
    return true;
  }

  private static boolean contains(byte[] buffer, char c, int start, int end) {
    for (int i = start; i < end; i++) {
      if (buffer[i] == c) {
        return true;
      }
    }
    return false;
  }

  /**
   * The field lines of a request head in a buffer, one at a time: the empty lines before the
   * request line (RFC 9112 §2.2) and the request line are passed over, and the empty line that
   * ends the head ends the walk. Shared by the scans that read fields, so that they agree on
   * where lines and the head end.
   */
  private static final class FieldLines {
    private final byte[] buffer;
    private final int limit;
    private int next;
    private boolean requestLine;
    /** The current field line, without its line end. */
    int start;
    int end;
    /** Just past the empty line that ends the head, once {@link #next} found it; else -1. */
    int headEnd = -1;

    FieldLines(byte[] buffer, int pos, int limit) {
      this.buffer = buffer;
      this.next = pos;
      this.limit = limit;
    }

    /** Moves to the next field line; false at the end of the head or of the bytes. */
    boolean next() {
      for (int i = next; i < limit; i++) {
        if (buffer[i] != '\n') {
          continue;
        }
        int lineStart = next;
        int lineEnd = i > lineStart && buffer[i - 1] == '\r' ? i - 1 : i;
        next = i + 1;
        if (lineEnd == lineStart) {
          if (requestLine) {
            headEnd = next;
            return false;
          }
        } else if (!requestLine) {
          requestLine = true;
        } else {
          start = lineStart;
          end = lineEnd;
          return true;
        }
      }
      return false;
    }

    /** True if the current field line starts with {@code name} (lower case, any case) and a colon. */
    boolean nameIs(String name) {
      return HeadScan.nameIs(buffer, start, end, name);
    }
  }
}
