package dev.ferry.proxy.engine.http1;

import dev.ferry.proxy.Headers;
import java.util.ArrayList;
import java.util.List;

/**
 * Removes the fields that belong to one connection only (RFC 9110 §7.6.1) before a message is
 * passed on, and adds {@code Via} (§7.6.3). Transfer-Encoding goes too; Content-Length is left
 * to the writers, which re-frame every message they send (and keep it on HEAD and 304
 * responses). The list follows Jetty's {@code HOP_HEADERS}, less {@code Trailer}: it announces
 * trailer fields end to end (RFC 9110 §6.6.2), and the trailers themselves are relayed.
 */
public final class HopByHop {
  private static final NameSet ALWAYS = NameSet.of(
      "connection", "keep-alive", "proxy-connection", "te", "transfer-encoding", "http2-settings");

  /** Connection options that say how the connection goes, not which field is hop-by-hop. */
  private static final NameSet KEPT_OPTIONS = NameSet.of("close", "keep-alive", "upgrade", "te");
  /**
   * Fields a client's Connection options leave in place: framing and routing, which the writers
   * set themselves whatever it lists, and the credentials the proxy's filters read.
   */
  private static final NameSet NOT_OPTIONAL = NameSet.of("host", "content-length",
      "transfer-encoding", "expect", "authorization", "proxy-authorization",
      // Listed, the client's directives were for this hop, whose cache is the proxy's: removed,
      // its no-store and no-cache went unheeded, a stored answer served (probe semantics F1).
      "cache-control", "pragma");

  /**
   * The fields that govern caching. Listed in a response's Connection they were for this hop,
   * which the proxy's cache is part of: they stay for it, still listed, and go when the response
   * is sent ({@link #stripForCache}).
   */
  private static final NameSet CACHE_FIELDS = NameSet.of("cache-control", "pragma", "expires",
      "vary", "cdn-cache-control");

  /**
   * Fields a trailer section must not carry (RFC 9110 §6.5.1: framing, routing, authentication,
   * caching), and those this proxy sets or vouches for in the header section (forwarding, the
   * verified client certificate, Via, Max-Forwards): a recipient that merges trailers into its
   * headers, as some servers can, would otherwise take a client's forgery for the proxy's word.
   */
  private static final NameSet NOT_IN_TRAILERS = NameSet.of(
      "content-length", "transfer-encoding", "host", "connection", "keep-alive", "te",
      "trailer", "upgrade", "content-type", "content-encoding", "content-range",
      "cache-control", "expect", "authorization", "set-cookie", "proxy-authorization",
      "via", "max-forwards", "forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto",
      "client-cert", "client-cert-chain", "x-forwarded-client-cert",
      // Set or checked once, in the head: a trailer would slip past that check.
      "x-request-id", "traceparent", "tracestate", "b3", "x-b3-traceid", "x-b3-spanid",
      "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags");

  private HopByHop() {}

  /**
   * The values of the field {@code name}, or none when the message's {@code Connection} lists it:
   * then they were for the last hop only, and go no further (RFC 9110 §7.6.1).
   */
  public static List<String> endToEnd(Headers headers, String name) {
    List<String> values = headers.all(name);
    return values.isEmpty() || !isListed(connectionOptions(headers), name) ? values : List.of();
  }

  /**
   * True if the message's {@code Connection} lists {@code name}. Allocates nothing: most
   * upstream responses carry {@code Connection: keep-alive}, and this runs on every one.
   */
  public static boolean connectionLists(Headers headers, String name) {
    for (int i = 0; i < headers.size(); i++) {
      if (headers.name(i).equalsIgnoreCase("connection")) {
        String field = headers.value(i);
        for (int start = 0, end; start < field.length(); start = end + 1) {
          end = field.indexOf(',', start);
          end = end < 0 ? field.length() : end;
          int from = start;
          int to = end;
          while (from < to && field.charAt(from) <= ' ') {
            from++;
          }
          while (to > from && field.charAt(to - 1) <= ' ') {
            to--;
          }
          if (to - from == name.length() && field.regionMatches(true, from, name, 0, name.length())) {
            return true;
          }
        }
      }
    }
    return false;
  }

  /**
   * The {@code Via} value to send: the received members joined, then {@code 1.1 ferry} (or
   * {@code 1.0 ferry} for an HTTP/1.0 message). Empty members (an empty {@code Via} field, a
   * stray comma) are left out: RFC 9110 §5.6.1 forbids generating them.
   */
  public static String via(Headers received, int minorVersion) {
    String hop = minorVersion == 0 ? "1.0 ferry" : "1.1 ferry";
    List<String> existing = endToEnd(received, "Via");
    if (existing.isEmpty()) {
      return hop;
    }
    StringBuilder via = new StringBuilder();
    for (String value : existing) {
      for (String member : value.split(",")) {
        String trimmed = member.strip();
        if (!trimmed.isEmpty()) {
          via.append(trimmed).append(", ");
        }
      }
    }
    return via.append(hop).toString();
  }

  /**
   * Returns the fields without those of the connection itself. {@code Upgrade} is kept only
   * when {@code keepUpgrade}, in which case {@code Connection: Upgrade} is put back.
   */
  public static Headers strip(Headers headers, boolean keepUpgrade) {
    Headers.Builder result = Headers.builder();
    strip(headers, keepUpgrade, NameSet.EMPTY, result);
    return result.build();
  }

  /**
   * {@link #strip(Headers, boolean)} into a builder, also leaving out {@code drop}: one pass and
   * no intermediate copies, since this runs several times per exchange. A field spelled with
   * underscores for hyphens ({@code Transfer_Encoding}, {@code X_Forwarded_For}) goes where its
   * hyphenated name would: CGI-style servers read both as one variable, so one that stayed
   * would stand for a field the proxy removed or set itself.
   */
  public static void strip(Headers headers, boolean keepUpgrade, NameSet drop,
      Headers.Builder into) {
    strip(headers, keepUpgrade, drop, NameSet.EMPTY, into);
  }

  /**
   * {@link #strip(Headers, boolean, NameSet, Headers.Builder)} for a response on its way to the
   * proxy's cache: the caching fields its {@code Connection} lists were for this hop, the cache
   * included, so they stay, and a {@code Connection} field naming them, which the
   * {@code ResponseSender} strips with them. Removed here, a {@code no-store} or a {@code Vary}
   * the upstream listed went unheeded, and one client's page was stored and served to all
   * (probe semantics F1); RFC 9111 §3.1 lets a cache store the response either way.
   */
  public static void stripForCache(Headers headers, boolean keepUpgrade, NameSet drop,
      Headers.Builder into) {
    strip(headers, keepUpgrade, drop, CACHE_FIELDS, into);
  }

  private static void strip(Headers headers, boolean keepUpgrade, NameSet drop, NameSet keepListed,
      Headers.Builder into) {
    List<String> listed = connectionOptions(headers);
    boolean upgrade = false;
    List<String> kept = List.of();
    for (int i = 0; i < headers.size(); i++) {
      String name = headers.name(i);
      if (name.equalsIgnoreCase("upgrade")) {
        upgrade = true;
        if (!keepUpgrade) {
          continue;
        }
      } else if (ALWAYS.contains(name) || drop.contains(name)
          || name.indexOf('_') >= 0 && isDropped(name.replace('_', '-'), drop)) {
        continue;
      } else if (isListed(listed, name)) {
        if (!keepListed.contains(name)) {
          continue;
        }
        if (!isListed(kept, name)) {
          kept = kept.isEmpty() ? new ArrayList<>(2) : kept;
          kept.add(name);
        }
      }
      into.add(headers, i);
    }
    if (keepUpgrade && upgrade) {
      into.add("Connection", "Upgrade");
    }
    if (!kept.isEmpty()) {
      into.add("Connection", String.join(", ", kept));
    }
  }

  private static boolean isDropped(String hyphenated, NameSet drop) {
    return ALWAYS.contains(hyphenated) || drop.contains(hyphenated);
  }

  /**
   * Applies the client's {@code Connection} options to {@code fields} (a copy of
   * {@code received}) as the request arrives, before filters see it: the fields they name are
   * the client's hop-by-hop fields, and go (RFC 9110 §7.6.1); the options go with them, so that
   * fields set later by the proxy or its filters ({@code --set-header}) under the same names are
   * passed on, not taken for the client's. {@code own}, fields the proxy has just set (the request
   * ID, the trace context), stay; so do framing and routing fields, which the writers set
   * whatever the client listed, and credentials, which filters read: those stay options too, so
   * the request that goes upstream drops them (a filter's own credentials with them: the safe
   * side). {@code close}, {@code keep-alive}, {@code upgrade} and {@code te} stay options, as
   * the proxy reads them.
   */
  public static void applyClientOptions(Headers received, Headers.Builder fields, String... own) {
    List<String> options = connectionOptions(received);
    if (options.isEmpty()) {
      return;
    }
    List<String> kept = new ArrayList<>(options.size());
    for (String option : options) {
      if (KEPT_OPTIONS.contains(option)) {
        kept.add(option);
        continue;
      }
      boolean ours = false;
      for (String name : own) {
        ours |= option.equalsIgnoreCase(name);
      }
      if (NOT_OPTIONAL.contains(option)) {
        // Left for the writers and filters; still named, so that what goes upstream drops it.
        kept.add(option);
      } else if (!ours) {
        fields.remove(option);
      }
    }
    if (kept.size() < options.size()) {
      fields.remove("Connection");
      if (!kept.isEmpty()) {
        fields.add("Connection", String.join(", ", kept));
      }
    }
  }

  /** Returns the trailer fields that are safe to pass on. */
  public static Headers stripTrailers(Headers trailers) {
    if (trailers.isEmpty()) {
      return trailers;
    }
    Headers.Builder result = Headers.builder();
    for (int i = 0; i < trailers.size(); i++) {
      String name = trailers.name(i);
      if (!NOT_IN_TRAILERS.contains(name)
          && !(name.indexOf('_') >= 0 && NOT_IN_TRAILERS.contains(name.replace('_', '-')))) {
        result.add(trailers, i);
      }
    }
    return result.build();
  }

  private static boolean isListed(List<String> listed, String name) {
    for (int i = 0; i < listed.size(); i++) {
      if (listed.get(i).equalsIgnoreCase(name)) {
        return true;
      }
    }
    return false;
  }

  /** The options of the Connection fields, trimmed; empty (and no allocation) without one. */
  public static List<String> connectionOptions(Headers headers) {
    List<String> options = List.of();
    for (int i = 0; i < headers.size(); i++) {
      if (!headers.name(i).equalsIgnoreCase("connection")) {
        continue;
      }
      String field = headers.value(i);
      for (int start = 0, end; start < field.length(); start = end + 1) {
        end = field.indexOf(',', start);
        if (end < 0) {
          end = field.length();
        }
        String option = field.substring(start, end).trim();
        if (!option.isEmpty()) {
          if (options.isEmpty()) {
            options = new ArrayList<>(2);
          }
          options.add(option);
        }
      }
    }
    return options;
  }
}
