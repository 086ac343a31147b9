package dev.ferry.proxy.engine.http1;

import dev.ferry.proxy.Headers;
import dev.ferry.proxy.engine.io.ConnectionOutput;
import java.io.IOException;

/**
 * Writes start lines and header fields straight into the connection's buffer as ISO-8859-1
 * bytes (header names and values are validated to be single-byte): no intermediate text or
 * array, and the head goes out with the first write of the body.
 */
public final class HeadWriter {
  private HeadWriter() {}

  public static void writeRequestHead(ConnectionOutput out, String method, String target,
      Headers headers) throws IOException {
    out.writeLatin1(method);
    out.write(' ');
    out.writeLatin1(target);
    out.writeLatin1(" HTTP/1.1\r\n");
    writeFields(out, headers);
    out.writeLatin1("\r\n");
  }

  /** @param status a three-digit status code, as every parsed or built response has */
  public static void writeStatusHead(ConnectionOutput out, int status, String reason,
      Headers headers) throws IOException {
    out.writeLatin1("HTTP/1.1 ");
    out.write('0' + status / 100);
    out.write('0' + status / 10 % 10);
    out.write('0' + status % 10);
    out.write(' ');
    out.writeLatin1(reason);
    out.writeLatin1("\r\n");
    writeFields(out, headers);
    out.writeLatin1("\r\n");
  }

  /** Writes {@code Name: value CRLF} for each field. */
  public static void writeFields(ConnectionOutput out, Headers headers) throws IOException {
    for (int i = 0; i < headers.size(); i++) {
      out.writeLatin1(headers.name(i));
      out.writeLatin1(": ");
      out.writeLatin1(headers.value(i));
      out.writeLatin1("\r\n");
    }
  }
}
