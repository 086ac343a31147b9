package dev.ferry.proxy.engine.trace;

import dev.ferry.proxy.Headers;
import java.util.Optional;
import java.util.UUID;

/**
 * The request ID of an exchange: the client's, when it sent a usable one in the configured header
 * (printable ASCII, at most 200 characters, so it cannot break a log line), else a new UUID.
 */
public final class RequestIds {
  private static final int MAX_LENGTH = 200;

  private RequestIds() {}

  public static String keepOrGenerate(Headers headers, String header) {
    Optional<String> given = headers.first(header).map(String::trim);
    if (given.isPresent() && usable(given.get())) {
      return given.get();
    }
    return UUID.randomUUID().toString();
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
