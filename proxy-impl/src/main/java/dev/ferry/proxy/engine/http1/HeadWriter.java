package dev.ferry.proxy.engine.http1;

import dev.ferry.proxy.Headers;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;

/**
 * Writes start lines and header fields straight into the connection's buffer as ISO-8859-1
 * bytes (header names and values are validated to be single-byte), one buffered write per head
 * and no intermediate text.
 */
public final class HeadWriter {
  private HeadWriter() {}

  public static void writeRequestHead(OutputStream out, String method, String target,
      Headers headers) throws IOException {
    Bytes head = new Bytes(256 + headers.size() * 48);
    head.text(method).ascii(' ').text(target).text(" HTTP/1.1\r\n");
    appendFields(head, headers);
    head.text("\r\n").writeTo(out);
  }

  public static void writeStatusHead(OutputStream out, int status, String reason,
      Headers headers) throws IOException {
    Bytes head = new Bytes(256 + headers.size() * 48);
    head.text("HTTP/1.1 ").number(status).ascii(' ').text(reason).text("\r\n");
    appendFields(head, headers);
    head.text("\r\n").writeTo(out);
  }

  /** Writes {@code Name: value CRLF} for each field. */
  public static void writeFields(OutputStream out, Headers headers) throws IOException {
    Bytes fields = new Bytes(64 + headers.size() * 48);
    appendFields(fields, headers);
    fields.writeTo(out);
  }

  private static void appendFields(Bytes head, Headers headers) {
    for (int i = 0; i < headers.size(); i++) {
      head.text(headers.name(i)).text(": ").text(headers.value(i)).text("\r\n");
    }
  }

  /** A growable ISO-8859-1 byte array: chars above 0xFF never get here (Headers rejects them). */
  private static final class Bytes {
    private byte[] bytes;
    private int count;

    Bytes(int capacity) {
      bytes = new byte[capacity];
    }

    // The deprecated getBytes(int, int, byte[], int) copies the low byte of each char, which is
    // exactly ISO-8859-1 for validated header text, without an intermediate array.
    @SuppressWarnings("deprecation")
    Bytes text(String text) {
      int length = text.length();
      if (count + length > bytes.length) {
        bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, count + length));
      }
      text.getBytes(0, length, bytes, count);
      count += length;
      return this;
    }

    Bytes ascii(char c) {
      if (count == bytes.length) {
        bytes = Arrays.copyOf(bytes, bytes.length * 2);
      }
      bytes[count++] = (byte) c;
      return this;
    }

    Bytes number(int value) {
      return text(Integer.toString(value));
    }

    void writeTo(OutputStream out) throws IOException {
      out.write(bytes, 0, count);
    }
  }
}
