package dev.ferry.proxy.engine;

import dev.ferry.proxy.Headers;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A message head as ISO-8859-1 bytes, built in one array an {@link EventLoop} reuses for every
 * head it writes (its fields are validated single-byte text): no string or builder per head, as
 * {@link dev.ferry.proxy.engine.http1.HeadWriter} writes straight into a connection's buffer on
 * the blocking path.
 */
final class LoopHead {
  private byte[] bytes = new byte[4096];
  private int length;
  /** {@link #view()}'s buffer over {@link #bytes}, made again only when they grow. */
  private ByteBuffer view = ByteBuffer.wrap(bytes);

  /** Starts a request head: {@code METHOD SP target SP HTTP/1.1 CRLF}. */
  LoopHead request(String method, String target) {
    length = 0;
    return text(method).text(" ").text(target).text(" HTTP/1.1\r\n");
  }

  /** Starts a response head: {@code HTTP/1.1 SP status SP reason CRLF}. */
  LoopHead status(int status, String reason) {
    length = 0;
    ensure(13);
    text("HTTP/1.1 ");
    bytes[length++] = (byte) ('0' + status / 100);
    bytes[length++] = (byte) ('0' + status / 10 % 10);
    bytes[length++] = (byte) ('0' + status % 10);
    return text(" ").text(reason).text("\r\n");
  }

  /** Adds {@code Name: value CRLF} for each field, and the empty line that ends the head. */
  LoopHead fields(Headers headers) {
    for (int i = 0; i < headers.size(); i++) {
      text(headers.name(i)).text(": ").text(headers.value(i)).text("\r\n");
    }
    return text("\r\n");
  }

  /**
   * Adds {@code content}, a request's body, after the head, so that head and body go in one
   * write (the array grows for it once, and stays grown for the loop's later heads).
   */
  LoopHead body(byte[] content) {
    ensure(content.length);
    System.arraycopy(content, 0, bytes, length, content.length);
    length += content.length;
    return this;
  }

  /** Copies the head into {@code out}, which must have room for it. */
  void into(ByteBuffer out) {
    out.put(bytes, 0, length);
  }

  /**
   * The head where it was built, for a write now: valid until the loop builds its next head, so
   * what a write leaves must be {@link #kept}.
   */
  ByteBuffer view() {
    if (view.array() != bytes) {
      view = ByteBuffer.wrap(bytes);
    }
    return view.limit(length).position(0);
  }

  /** What {@code head} (a {@link #view}, or such a copy) has left, in an array of its own. */
  static ByteBuffer kept(ByteBuffer head) {
    return ByteBuffer.wrap(Arrays.copyOfRange(head.array(), head.position(), head.limit()));
  }

  private LoopHead text(String text) {
    int n = text.length();
    ensure(n);
    for (int i = 0; i < n; i++) {
      bytes[length++] = (byte) text.charAt(i);
    }
    return this;
  }

  private void ensure(int more) {
    if (length + more > bytes.length) {
      bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + more));
    }
  }
}
