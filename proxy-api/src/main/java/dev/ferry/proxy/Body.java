package dev.ferry.proxy;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * The body of a request or a response: a one-shot stream of bytes.
 *
 * <p>Bodies stream; nothing in Ferry buffers a whole message. A filter that transforms a body
 * wraps its stream and hands on a new {@code Body}:
 *
 * <pre>{@code
 * Response upper = response.withBody(Body.of(new UpperCaseStream(response.body().stream()), -1));
 * }</pre>
 *
 * <p>{@link #stream()} may be called once. Every body is consumed or closed exactly once, by
 * whoever drops it: a filter that replaces a response it got from {@code proceed()} may close the
 * old body at once, and otherwise the engine closes it when the exchange ends, which returns an
 * upstream connection or a cache slot it holds. Closing a body that was read to its end does
 * nothing.
 *
 * <p>A body's {@link #contentLength()} is a contract: when Ferry writes a body whose stream yields
 * more or fewer bytes than it declared, the exchange fails and the connection is closed rather
 * than put wrong bytes on a connection that carries other messages.
 */
public interface Body extends Closeable {

  /**
   * Returns the length in bytes, or {@code -1} if it is not known in advance (a chunked or
   * close-delimited message, or a transformed stream).
   */
  long contentLength();

  /**
   * Opens the body's byte stream. The caller reads it and may close it early.
   *
   * @throws IllegalStateException if the stream was already opened
   */
  InputStream stream() throws IOException;

  /**
   * Returns the trailer fields that followed a chunked body. They are known only once the stream
   * has been read to its end; before that, and for bodies without trailers, the list is empty.
   */
  default Headers trailers() {
    return Headers.empty();
  }

  /**
   * Releases what the body holds without reading it (for a streaming body, closes its stream).
   * The default does nothing, which suits bodies held in memory. Calling it again does nothing.
   */
  @Override
  default void close() throws IOException {}

  /**
   * Reads the whole body into memory, for bodies known to be small.
   *
   * @param maxBytes the most bytes to accept
   * @throws IOException if the body is longer than {@code maxBytes}, or reading fails
   */
  default byte[] bytes(int maxBytes) throws IOException {
    if (maxBytes < 0) {
      throw new IllegalArgumentException("maxBytes must not be negative (was " + maxBytes + ")");
    }
    long length = contentLength();
    if (length > maxBytes) {
      throw new IOException(
          "body of " + length + " bytes is larger than maxBytes (was " + maxBytes + ")");
    }
    try (InputStream in = stream()) {
      byte[] bytes = in.readNBytes(maxBytes);
      if (in.read() != -1) {
        throw new IOException("body is larger than maxBytes (was " + maxBytes + ")");
      }
      return bytes;
    }
  }

  /**
   * Returns true if {@link #stream()} may be called more than once, each call reading the same
   * bytes from memory, so an observer (an {@link ExchangeListener}) may read the body without
   * disturbing the exchange. Bodies from {@link #of(byte[])}, {@link #of(String)} and
   * {@link Response#text} are repeatable; streaming bodies are not. The default is false.
   */
  default boolean isRepeatable() {
    return false;
  }

  /**
   * Returns true if this body is known to hold no bytes at all.
   */
  default boolean isEmpty() {
    return contentLength() == 0;
  }

  /** Returns a body with no bytes. */
  static Body empty() {
    return BytesBody.EMPTY;
  }

  /** Returns a body holding a copy of these bytes. It can be read any number of times. */
  static Body of(byte[] bytes) {
    Objects.requireNonNull(bytes, "bytes");
    return bytes.length == 0 ? BytesBody.EMPTY : new BytesBody(bytes.clone());
  }

  /** Returns a body holding this text encoded as UTF-8. */
  static Body of(String text) {
    Objects.requireNonNull(text, "text");
    return of(text.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Returns a one-shot body that reads from {@code stream}.
   *
   * @param contentLength the exact number of bytes the stream yields, or {@code -1} if unknown
   * @throws IllegalArgumentException if {@code contentLength} is below {@code -1}
   */
  static Body of(InputStream stream, long contentLength) {
    Objects.requireNonNull(stream, "stream");
    if (contentLength < -1) {
      throw new IllegalArgumentException(
          "contentLength must be -1 (unknown) or at least 0 (was " + contentLength + ")");
    }
    return new StreamBody(stream, contentLength);
  }
}
