package dev.ferry.proxy.engine.http1;

import dev.ferry.proxy.Headers;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Removes the fields that belong to one connection only (RFC 9110 §7.6.1) before a message is
 * passed on, and adds {@code Via} (§7.6.3). Transfer-Encoding goes too; Content-Length is left
 * to the writers, which re-frame every message they send (and keep it on HEAD and 304
 * responses). The list follows Jetty's {@code HOP_HEADERS}.
 */
public final class HopByHop {
  private static final Set<String> ALWAYS = Set.of(
      "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
      "http2-settings");

  /** Credentials and challenges meant for this proxy, not for the next hop. */
  public static final Set<String> PROXY_AUTH = Set.of("proxy-authorization", "proxy-authenticate");

  /** Fields that must not appear in a trailer section (RFC 9110 §6.5.1). */
  private static final Set<String> NOT_IN_TRAILERS = Set.of(
      "content-length", "transfer-encoding", "host", "connection", "keep-alive", "te",
      "trailer", "upgrade", "content-type", "content-encoding", "content-range",
      "cache-control", "expect", "authorization", "set-cookie", "proxy-authorization");

  private HopByHop() {}

  /**
   * Returns the fields of a message received from one hop that may be passed to the next:
   * {@link #strip} plus the proxy's own authentication fields.
   */
  public static Headers forForwarding(Headers headers, boolean keepUpgrade) {
    Headers.Builder result = Headers.builder();
    strip(headers, keepUpgrade, PROXY_AUTH, result);
    return result.build();
  }

  /** The {@code Via} value to send: the received ones joined, then {@code 1.1 ferry}. */
  public static String via(Headers received, int minorVersion) {
    String hop = (minorVersion == 0 ? "1.0" : "1.1") + " ferry";
    List<String> existing = received.all("Via");
    return existing.isEmpty() ? hop : String.join(", ", existing) + ", " + hop;
  }

  /**
   * Returns the fields without those of the connection itself. {@code Upgrade} is kept only
   * when {@code keepUpgrade}, in which case {@code Connection: Upgrade} is put back.
   */
  public static Headers strip(Headers headers, boolean keepUpgrade) {
    Headers.Builder result = Headers.builder();
    strip(headers, keepUpgrade, Set.of(), result);
    return result.build();
  }

  /**
   * {@link #strip(Headers, boolean)} into a builder, also leaving out {@code drop} (lower-case
   * names): one pass and no intermediate copies, since this runs several times per exchange.
   */
  public static void strip(Headers headers, boolean keepUpgrade, Set<String> drop,
      Headers.Builder into) {
    List<String> listed = connectionOptions(headers);
    for (int i = 0; i < headers.size(); i++) {
      String name = headers.name(i).toLowerCase(Locale.ROOT);
      if (name.equals("upgrade")) {
        if (!keepUpgrade) {
          continue;
        }
      } else if (ALWAYS.contains(name) || listed.contains(name) || drop.contains(name)) {
        continue;
      }
      into.add(headers.name(i), headers.value(i));
    }
    if (keepUpgrade && headers.contains("Upgrade")) {
      into.add("Connection", "Upgrade");
    }
  }

  /** Returns the trailer fields that are safe to pass on. */
  public static Headers stripTrailers(Headers trailers) {
    if (trailers.isEmpty()) {
      return trailers;
    }
    Headers.Builder result = Headers.builder();
    for (int i = 0; i < trailers.size(); i++) {
      if (!NOT_IN_TRAILERS.contains(trailers.name(i).toLowerCase(Locale.ROOT))) {
        result.add(trailers.name(i), trailers.value(i));
      }
    }
    return result.build();
  }

  /** Returns {@code headers} with {@code 1.1 ferry} appended to {@code Via}. */
  public static Headers addVia(Headers headers, int minorVersion) {
    return headers.with("Via", via(headers, minorVersion));
  }

  private static List<String> connectionOptions(Headers headers) {
    List<String> options = new ArrayList<>();
    for (String value : headers.all("Connection")) {
      for (String option : value.split(",")) {
        String trimmed = option.trim().toLowerCase(Locale.ROOT);
        if (!trimmed.isEmpty()) {
          options.add(trimmed);
        }
      }
    }
    return options;
  }
}
