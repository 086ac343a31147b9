package dev.ferry.proxy.engine.trace;

import dev.ferry.proxy.Headers;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The request ID of an exchange: the client's, when it sent a usable one in the configured header
 * (visible ASCII other than {@code "} and {@code \}, at most 200 characters, so that it cannot
 * break a log line, quoted or not, in one field line), else a new UUID.
 */
public final class RequestIds {
  private static final int MAX_LENGTH = 200;

  private RequestIds() {}

  public static String keepOrGenerate(Headers headers, String header) {
    String given = null;
    int lines = 0;
    for (int i = 0; i < headers.size(); i++) {
      if (headers.name(i).equalsIgnoreCase(header)) {
        given = headers.value(i).trim();
        lines++;
      }
    }
    // Two field lines are one list ("a, b", RFC 9110 §5.3): no usable ID, as a comma is not one.
    if (lines == 1 && usable(given)) {
      return given;
    }
    // A version-4 UUID from the thread's own generator: a request ID needs to be unique, not
    // unguessable, and UUID.randomUUID() goes through a shared SecureRandom on every request.
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long high = (random.nextLong() & ~0xF000L) | 0x4000L;
    long low = (random.nextLong() & ~(0xC000L << 48)) | (0x8000L << 48);
    return new UUID(high, low).toString();
  }

  private static boolean usable(String id) {
    if (id.isEmpty() || id.length() > MAX_LENGTH) {
      return false;
    }
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\') {
        return false;
      }
    }
    return true;
  }
}
