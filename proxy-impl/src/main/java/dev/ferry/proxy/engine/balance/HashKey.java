package dev.ferry.proxy.engine.balance;

import dev.ferry.proxy.Balancer;
import dev.ferry.proxy.Request;
import java.net.InetAddress;

/** Reads a hash balancer's key from a request: a header, a cookie, the client IP or the path. */
final class HashKey {
  private final Balancer.HashOn on;
  private final String name;

  private HashKey(Balancer.HashOn on, String name) {
    this.on = on;
    this.name = name;
  }

  static HashKey of(Balancer spec) {
    return new HashKey(spec.hashOn(), spec.key());
  }

  /** The key, or null when the request has none (or an empty one). */
  String read(Request request, InetAddress client) {
    String key;
    switch (on) {
      case HEADER:
        key = request.headers().first(name).orElse(null);
        break;
      case COOKIE:
        key = cookie(request);
        break;
      case CLIENT_IP:
        key = client == null ? null : client.getHostAddress();
        break;
      default:
        key = request.path();
        break;
    }
    return key == null || key.isEmpty() ? null : key;
  }

  /** RFC 6265 §4.2.1: {@code Cookie: a=1; b=2}, possibly over several fields. */
  private String cookie(Request request) {
    for (String field : request.headers().all("Cookie")) {
      int start = 0;
      while (start < field.length()) {
        int end = field.indexOf(';', start);
        if (end < 0) {
          end = field.length();
        }
        int equals = field.indexOf('=', start);
        if (equals > 0 && equals < end && field.substring(start, equals).trim().equals(name)) {
          return field.substring(equals + 1, end).trim();
        }
        start = end + 1;
      }
    }
    return null;
  }
}
