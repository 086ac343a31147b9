package dev.ferry.proxy.engine.http1;

import dev.ferry.proxy.Headers;
import java.io.IOException;
import java.io.OutputStream;

/** Writes start lines and header fields as ISO-8859-1 bytes. */
public final class HeadWriter {
  private HeadWriter() {}

  public static void writeRequestHead(OutputStream out, String method, String target,
      Headers headers) throws IOException {
    writeAscii(out, method);
    out.write(' ');
    writeAscii(out, target);
    writeAscii(out, " HTTP/1.1\r\n");
    writeFields(out, headers);
    out.write('\r');
    out.write('\n');
  }

  public static void writeStatusHead(OutputStream out, int status, String reason,
      Headers headers) throws IOException {
    writeAscii(out, "HTTP/1.1 ");
    out.write('0' + status / 100);
    out.write('0' + status / 10 % 10);
    out.write('0' + status % 10);
    out.write(' ');
    writeAscii(out, reason);
    out.write('\r');
    out.write('\n');
    writeFields(out, headers);
    out.write('\r');
    out.write('\n');
  }

  /** Writes {@code Name: value CRLF} for each field. */
  public static void writeFields(OutputStream out, Headers headers) throws IOException {
    for (int i = 0; i < headers.size(); i++) {
      writeAscii(out, headers.name(i));
      out.write(':');
      out.write(' ');
      writeAscii(out, headers.value(i));
      out.write('\r');
      out.write('\n');
    }
  }

  private static void writeAscii(OutputStream out, String s) throws IOException {
    int length = s.length();
    byte[] bytes = new byte[length];
    for (int i = 0; i < length; i++) {
      bytes[i] = (byte) s.charAt(i);
    }
    out.write(bytes, 0, length);
  }
}
