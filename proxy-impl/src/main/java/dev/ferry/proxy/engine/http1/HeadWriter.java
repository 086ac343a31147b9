package dev.ferry.proxy.engine.http1;

import dev.ferry.proxy.Headers;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Writes start lines and header fields. A head is assembled as text and encoded once: one
 * intrinsic ISO-8859-1 encode and one buffered write per head, instead of one per field.
 */
public final class HeadWriter {
  private HeadWriter() {}

  public static void writeRequestHead(OutputStream out, String method, String target,
      Headers headers) throws IOException {
    StringBuilder head = new StringBuilder(256);
    head.append(method).append(' ').append(target).append(" HTTP/1.1\r\n");
    appendFields(head, headers);
    head.append("\r\n");
    write(out, head);
  }

  public static void writeStatusHead(OutputStream out, int status, String reason,
      Headers headers) throws IOException {
    StringBuilder head = new StringBuilder(256);
    head.append("HTTP/1.1 ").append(status).append(' ').append(reason).append("\r\n");
    appendFields(head, headers);
    head.append("\r\n");
    write(out, head);
  }

  /** Writes {@code Name: value CRLF} for each field. */
  public static void writeFields(OutputStream out, Headers headers) throws IOException {
    StringBuilder fields = new StringBuilder(64);
    appendFields(fields, headers);
    write(out, fields);
  }

  private static void appendFields(StringBuilder text, Headers headers) {
    for (int i = 0; i < headers.size(); i++) {
      text.append(headers.name(i)).append(": ").append(headers.value(i)).append("\r\n");
    }
  }

  private static void write(OutputStream out, StringBuilder text) throws IOException {
    byte[] bytes = text.toString().getBytes(StandardCharsets.ISO_8859_1);
    out.write(bytes, 0, bytes.length);
  }
}
