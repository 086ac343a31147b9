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
  private static final Set<String> PROXY_AUTH = Set.of("proxy-authorization", "proxy-authenticate");

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
    Headers stripped = strip(headers, keepUpgrade);
    for (String name : PROXY_AUTH) {
      stripped = stripped.without(name);
    }
    return stripped;
  }

  /**
   * Returns the fields without those of the connection itself. {@code Upgrade} is kept only
   * when {@code keepUpgrade}, in which case {@code Connection: Upgrade} is put back.
   */
  public static Headers strip(Headers headers, boolean keepUpgrade) {
    List<String> listed = connectionOptions(headers);
    Headers.Builder result = Headers.builder();
    for (int i = 0; i < headers.size(); i++) {
      String name = headers.name(i).toLowerCase(Locale.ROOT);
      if (name.equals("upgrade")) {
        // Connection: Upgrade names it too; only keepUpgrade decides.
        if (!keepUpgrade) {
          continue;
        }
      } else if (ALWAYS.contains(name) || listed.contains(name)) {
        continue;
      }
      result.add(headers.name(i), headers.value(i));
    }
    if (keepUpgrade && headers.contains("Upgrade")) {
      result.add("Connection", "Upgrade");
    }
    return result.build();
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
    String hop = (minorVersion == 0 ? "1.0" : "1.1") + " ferry";
    List<String> existing = headers.all("Via");
    if (existing.isEmpty()) {
      return headers.plus("Via", hop);
    }
    return headers.with("Via", String.join(", ", existing) + ", " + hop);
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
