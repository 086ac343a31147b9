package dev.ferry.proxy.testkit;

import dev.ferry.proxy.Headers;
import java.nio.charset.Charset;
import java.nio.charset.IllegalCharsetNameException;
import java.nio.charset.StandardCharsets;
import java.nio.charset.UnsupportedCharsetException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * A captured message body: the exact bytes that went through the proxy, up to the recording's
 * per-body cap, and a decoded view for assertions.
 *
 * <p>{@link #bytes()} are the raw bytes as they were on the wire (still gzip-compressed if the
 * message was). {@link #decoded()} undoes a {@code gzip} or {@code deflate} Content-Encoding;
 * other encodings (such as {@code br}) are returned as they are. When the body was longer than
 * the cap, only its first bytes are kept and {@link #truncated()} is true; {@link #size()} still
 * tells how long it really was.
 */
public final class RecordedBody {
  private static final RecordedBody EMPTY = new RecordedBody(new byte[0], 0, null, null, false);

  private final byte[] bytes;
  private final long size;
  private final String contentEncoding;
  private final String contentType;
  private final boolean restUnseen;

  private RecordedBody(byte[] bytes, long size, String contentEncoding, String contentType,
      boolean restUnseen) {
    this.bytes = bytes;
    this.size = Math.max(size, bytes.length);
    this.contentEncoding = contentEncoding;
    this.contentType = contentType;
    this.restUnseen = restUnseen && this.size > bytes.length;
  }

  /** Returns a body with no bytes. */
  public static RecordedBody empty() {
    return EMPTY;
  }

  /**
   * Returns a body of these raw bytes (copied), interpreted with the message's headers.
   *
   * @param size the body's full length, at least {@code bytes.length}; more means truncated
   */
  public static RecordedBody of(byte[] bytes, long size, Headers headers) {
    return owned(bytes.clone(), size, headers);
  }

  /** Like {@link #of} but takes ownership of {@code bytes}, which the caller must not change. */
  static RecordedBody owned(byte[] bytes, long size, Headers headers) {
    return owned(bytes, size, headers, false);
  }

  /**
   * The codings of every Content-Encoding line, in order, joined as one list (RFC 9110 §5.3:
   * two lines are one comma-joined list), without empty members and {@code identity}; null
   * for none. Only the first line was read: {@code gzip} on two lines passed for one gzip, and
   * body checks judged bytes still encoded (probe v25).
   */
  private static String contentCodings(Headers headers) {
    List<String> codings = new ArrayList<>();
    for (String line : headers.all("Content-Encoding")) {
      for (String member : line.split(",")) {
        String coding = member.trim();
        if (!coding.isEmpty() && !coding.equalsIgnoreCase("identity")) {
          codings.add(coding);
        }
      }
    }
    return codings.isEmpty() ? null : String.join(", ", codings);
  }

  /**
   * Like {@link #owned(byte[], long, Headers)}; {@code restUnseen} says that no recording bound
   * cut the body: its bytes past {@code bytes} went through the proxy where the recorder could
   * not see them.
   */
  static RecordedBody owned(byte[] bytes, long size, Headers headers, boolean restUnseen) {
    String encoding = contentCodings(headers);
    String type = headers.first("Content-Type").orElse(null);
    if (bytes.length == 0 && size <= 0 && encoding == null && type == null) {
      return EMPTY;
    }
    return new RecordedBody(bytes, size, encoding, type, restUnseen);
  }

  /** The captured raw bytes, exactly as they went over the wire (a copy). */
  public byte[] bytes() {
    return bytes.clone();
  }

  /** How many raw bytes were captured: {@code bytes().length}, without copying. */
  public int capturedSize() {
    return bytes.length;
  }

  /** The body's full length in bytes as it went through the proxy, captured or not. */
  public long size() {
    return size;
  }

  /**
   * True if {@link #bytes()} holds only a prefix of the body: it was longer than the capture cap
   * or than the recording's byte budget allowed, or the rest of it went through the proxy where
   * the recorder could not see it (the body of an answer the proxy made before a request
   * existed).
   */
  public boolean truncated() {
    return size > bytes.length;
  }

  /**
   * True if the body is {@linkplain #truncated() truncated} although no recording bound cut it
   * (neither {@code maxBodyBytes} nor the byte budget): the rest passed the recorder unseen. False
   * when a bound cut it, or when the cause is unknown (a body imported from a HAR file).
   */
  boolean restUnseen() {
    return restUnseen;
  }

  /**
   * True if a check on the body's whole content can be judged from what was recorded: the body is
   * empty, or it is neither {@linkplain #truncated() truncated} nor
   * {@linkplain #isUndecodable() undecodable}.
   */
  boolean decidable() {
    return isEmpty() || (!truncated() && !isUndecodable());
  }

  /**
   * The message of a check this body cannot decide ({@link #decidable()} is false), such as
   * {@code contains <x>}: which Content-Encoding could not be decoded, or how many bytes were
   * kept and what would keep more.
   */
  String undecidable(String side, String check) {
    // A gzip body cut before its header ends is undecodable because it was cut: keeping more
    // would decode it. A coding the testkit never undoes stays encoded however much is kept.
    if (isUndecodable() && !(truncated() && undoable())) {
      String cause = undoable()
          ? "its bytes are not valid " + contentEncoding
          : "the testkit undoes a single gzip, x-gzip or deflate coding only";
      return String.format(Locale.ROOT, "Cannot check that the %s body %s: its Content-Encoding "
          + "%s could not be decoded (%s), so the recorded bytes are still encoded", side, check,
          contentEncoding, cause);
    }
    // Raising a bound helps only where a bound cut the body.
    String why = restUnseen
        ? "no recording limit was reached: the rest went through the proxy where the recorder "
            + "could not see it, such as a request body that arrived after the proxy had answered"
        : "raise maxBodyBytes, or maxRecordingBytes with TRUNCATE_BODIES";
    return String.format(Locale.ROOT, "Cannot check that the %s body %s: only its first %d of %d "
        + "bytes were recorded (%s)", side, check, bytes.length, size, why);
  }

  /** True if the body had no bytes at all. */
  public boolean isEmpty() {
    return size == 0;
  }

  /** The message's Content-Encoding, such as {@code gzip}, if it had one. */
  public Optional<String> contentEncoding() {
    return Optional.ofNullable(contentEncoding);
  }

  /** The message's Content-Type, if it had one. */
  public Optional<String> contentType() {
    return Optional.ofNullable(contentType);
  }

  /**
   * The content with a {@code gzip}, {@code x-gzip} or {@code deflate} Content-Encoding undone;
   * the raw bytes for any other or no encoding. A truncated body decodes as far as it goes.
   * Decoding stops at 64 MiB, so a compression bomb cannot exhaust the heap.
   */
  public byte[] decoded() {
    if (contentEncoding == null) {
      return bytes.clone();
    }
    String encoding = contentEncoding.toLowerCase(Locale.ROOT);
    if (encoding.equals("gzip") || encoding.equals("x-gzip")) {
      return ContentDecoder.gunzip(bytes);
    }
    if (encoding.equals("deflate")) {
      return ContentDecoder.inflate(bytes);
    }
    return bytes.clone();
  }

  /** True if the Content-Encoding is one {@link #decoded()} tries to undo. */
  private boolean undoable() {
    return contentEncoding != null && (contentEncoding.equalsIgnoreCase("gzip")
        || contentEncoding.equalsIgnoreCase("x-gzip")
        || contentEncoding.equalsIgnoreCase("deflate"));
  }

  /**
   * True if the body carries a Content-Encoding (other than {@code identity}) that
   * {@link #decoded()} does not undo, such as {@code br}, {@code zstd} or stacked codings
   * ({@code gzip, gzip}), or a gzip body too damaged to decode: its bytes are still encoded. HAR
   * export keeps them, and the Content-Encoding, as they are. Body assertions and
   * {@link ExchangeMatcher#bodyContains} refuse to judge such a body's content from them.
   */
  public boolean isUndecodable() {
    return contentEncoding != null && !contentEncoding.equalsIgnoreCase("identity")
        && !isEncoded();
  }

  /** True if {@link #decoded()} differs from the raw bytes because a known encoding was undone. */
  public boolean isEncoded() {
    return contentEncoding != null && !Arrays.equals(bytes, decoded());
  }

  /**
   * The {@link #decoded()} content as text, in the Content-Type's charset or else UTF-8.
   */
  public String text() {
    return new String(decoded(), charset());
  }

  Charset charset() {
    if (contentType != null) {
      for (String part : contentType.split(";")) {
        String p = part.trim();
        if (p.regionMatches(true, 0, "charset=", 0, 8)) {
          try {
            return Charset.forName(p.substring(8).replace("\"", "").trim());
          } catch (IllegalCharsetNameException | UnsupportedCharsetException e) {
            return StandardCharsets.UTF_8;
          }
        }
      }
    }
    return StandardCharsets.UTF_8;
  }

  @Override
  public String toString() {
    if (isEmpty()) {
      return "(empty)";
    }
    String shown = text();
    if (shown.length() > 200) {
      shown = shown.substring(0, 200) + "…";
    }
    return size + " bytes" + (truncated() ? " (truncated to " + bytes.length + ")" : "")
        + (contentEncoding == null ? "" : " " + contentEncoding) + ": " + shown;
  }
}
