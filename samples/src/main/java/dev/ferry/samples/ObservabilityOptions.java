package dev.ferry.samples;

import dev.ferry.proxy.AccessLogFormat;
import dev.ferry.proxy.CacheSpec;
import dev.ferry.proxy.Headers;
import dev.ferry.proxy.ProxyConfig;
import dev.ferry.proxy.ProxyServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * The observability and admin flags: admin listener, access log, error pages, request IDs, the
 * cache's status header, who may purge it, and what it stores. Each maps onto one builder method (or a {@link CacheSpec} option); the admin
 * address and the cache header are applied after all flags, since they combine two flags or a
 * flag and the cache, in whichever order they were given.
 */
final class ObservabilityOptions {
  static final String USAGE = String.join("\n",
      "      --admin-port N           serve /_stats, /_dashboard and Prometheus /metrics on",
      "                               their own listener at 127.0.0.1:N (0 = any free port)",
      "      --admin-bind ADDRESS     address of the admin listener (default 127.0.0.1; it has",
      "                               no authentication)",
      "      --access-log FORMAT      combined | json | off: one line per exchange on logger",
      "                               dev.ferry.access (default combined)",
      "      --error-page STATUS=FILE  HTML page for the proxy's own STATUS answers (400-599),",
      "                               for clients that accept text/html; {status}, {reason} and",
      "                               {detail} are filled in; repeatable",
      "      --request-id-header NAME  header carrying the request ID (default X-Request-Id)",
      "      --no-stats-on-proxy-port  do not answer GET /_stats and /_dashboard from loopback on",
      "                               a forward proxy's own port",
      "      --cache-status-header NAME  header telling HIT, MISS... (default X-Cache; needs -m)",
      "      --cache-max-entry-mb N   largest response the cache stores, in MiB (default 1; at",
      "                               most -m; needs -m); larger ones pass through uncached",
      "      --purge-from CIDR|none   clients allowed to send PURGE to the proxy port (default",
      "                               loopback; repeatable; none: PURGE is refused to all, as",
      "                               behind nginx on the same host, where every client is",
      "                               loopback; the admin listener's /_cache/purge stays)",
      "      --cache-store-set-cookie  store answers carrying Set-Cookie and send them, cookie",
      "                               and all, to every client (needs -m; off by default, as",
      "                               in nginx and Varnish: only for cookies alike for all)",
      "      --cache-targeted-field NAME  the RFC 9213 field that overrides Cache-Control and",
      "                               Expires for this cache (default CDN-Cache-Control;",
      "                               reverse proxies; needs -m)",
      "      --cache-hide-targeted-field  remove that field from answers to clients (reverse",
      "                               proxies; needs -m)");

  /** Flags that take a value. */
  static final Set<String> FLAGS = Set.of("--admin-port", "--admin-bind", "--access-log",
      "--error-page", "--request-id-header", "--cache-status-header", "--cache-max-entry-mb", "--purge-from",
      "--cache-targeted-field");
  /** Flags without a value. */
  static final Set<String> SWITCHES = Set.of("--no-stats-on-proxy-port", "--cache-store-set-cookie",
      "--cache-hide-targeted-field");

  private static final Set<String> REPEATABLE = Set.of("--error-page", "--no-stats-on-proxy-port",
      "--purge-from");

  private final Set<String> seen = new HashSet<>();
  private final Set<Integer> errorPageStatuses = new HashSet<>();
  private Integer adminPort;
  private String adminBind;
  private String cacheStatusHeader;
  private Integer cacheMaxEntryMb;
  private String requestIdHeader;
  private AccessLogFormat accessLog;
  private boolean noStatsOnProxyPort;
  /** The {@code --purge-from} blocks, empty for {@code none}; null when the flag is not given. */
  private List<String> purgeFrom;
  private boolean storeSetCookie;
  private String targetedField;
  private boolean hideTargetedField;

  /** Applies a switch. */
  void add(String flag, ProxyServer.Builder builder) {
    once(flag);
    switch (flag) {
      case "--no-stats-on-proxy-port" -> {
        noStatsOnProxyPort = true;
        builder.statsOnProxyPort(false);
      }
      case "--cache-store-set-cookie" -> storeSetCookie = true;
      case "--cache-hide-targeted-field" -> hideTargetedField = true;
      default -> throw new IllegalArgumentException("unknown option " + flag);
    }
  }

  /**
   * Applies a flag with its value.
   *
   * @throws IllegalArgumentException naming the flag
   */
  void add(String flag, String value, ProxyServer.Builder builder) {
    once(flag);
    switch (flag) {
      case "--admin-port" -> adminPort = port(flag, value);
      case "--admin-bind" -> adminBind = value;
      case "--access-log" -> {
        accessLog = accessLog(flag, value);
        builder.accessLog(accessLog);
      }
      case "--error-page" -> errorPage(flag, value, builder);
      case "--request-id-header" -> {
        if (Headers.isProxyManaged(value)) {
          throw new IllegalArgumentException(flag + " cannot be " + value
              + ": the proxy manages Host, message framing and hop-by-hop headers");
        }
        // Checked now, set in applyTo: the cache's status header it must differ from is known then.
        ProxyServer.builder().requestIdHeader(value);
        requestIdHeader = value.trim();
      }
      case "--cache-status-header" -> cacheStatusHeader = CacheSpec.inMemory().statusHeader(value).statusHeader();
      case "--cache-max-entry-mb" -> {
        int megabytes = CliOptions.intValue(flag, value);
        if (megabytes < 1) {
          throw new IllegalArgumentException(flag + " must be 1 or more (was " + megabytes + ")");
        }
        cacheMaxEntryMb = megabytes;
      }
      case "--purge-from" -> purgeFrom(flag, value);
      case "--cache-targeted-field" -> {
        try {
          targetedField = CacheSpec.inMemory().targetedField(value).targetedField();
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(flag + ": " + e.getMessage(), e);
        }
      }
      default -> throw new IllegalArgumentException("unknown option " + flag);
    }
  }

  private void purgeFrom(String flag, String value) {
    boolean none = value.equals("none");
    if (purgeFrom != null && (none || purgeFrom.isEmpty())) {
      throw new IllegalArgumentException(flag + " none turns PURGE off and cannot be combined with "
          + "address blocks: give none alone, or the blocks alone");
    }
    if (purgeFrom == null) {
      purgeFrom = new ArrayList<>();
    }
    if (!none) {
      try {
        CacheSpec.inMemory().purgeFrom(value);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(flag + " takes an address block such as 10.0.0.0/8 or ::1, "
            + "or none: " + e.getMessage(), e);
      }
      purgeFrom.add(value);
    }
  }

  /**
   * Refuses an access log asked for together with {@code -q}, which silences it.
   *
   * @throws IllegalArgumentException naming both flags
   */
  void checkQuiet() {
    if (accessLog != null && accessLog != AccessLogFormat.OFF) {
      throw new IllegalArgumentException("--access-log " + accessLog.name().toLowerCase(Locale.ROOT)
          + " and -q/--quiet contradict each other (-q silences the access log): keep one");
    }
  }

  /**
   * Refuses the forward-only switch on a reverse proxy, whose {@code /_stats} is its upstream's.
   *
   * @throws IllegalArgumentException naming the flag
   */
  void checkMode(boolean reverse) {
    if (reverse && noStatsOnProxyPort) {
      throw new IllegalArgumentException("--no-stats-on-proxy-port is for forward proxies (a reverse "
          + "proxy passes /_stats to its upstream already); remove it, or the reverse proxy's upstreams "
          + "(--upstream, --route, or the config file's upstream and routes)");
    }
    String targeting = targetedField != null ? "--cache-targeted-field"
        : hideTargetedField ? "--cache-hide-targeted-field" : null;
    if (!reverse && targeting != null) {
      // A forward proxy is not the CDN such a field targets: the cache would ignore it.
      throw new IllegalArgumentException(targeting + " is for reverse proxies (a forward proxy's cache "
          + "reads Cache-Control alone); remove it, or give the proxy its upstreams (--upstream, --route, "
          + "or the config file's upstream and routes)");
    }
  }

  /**
   * Applies what combines with other flags: the admin address, and the status header onto the
   * cache that {@code -m} or the config file set up. Call it once, after every other flag.
   *
   * @throws IllegalArgumentException naming the flag
   */
  void applyTo(ProxyServer.Builder builder) {
    if (adminBind != null && adminPort == null) {
      throw new IllegalArgumentException("--admin-bind needs --admin-port");
    }
    if (adminPort != null) {
      String host = adminBind != null ? adminBind : "127.0.0.1";
      ListenAddresses.requireLocal("--admin-bind", host);
      builder.admin(new InetSocketAddress(host, adminPort));
      try {
        builder.buildConfig();
      } catch (IllegalStateException e) {
        if (e.getMessage().startsWith("the admin listener's port")) {
          // In the flags' words, not the builder's (probe cli F1: it failed to bind, exit 1).
          throw new IllegalArgumentException("--admin-port " + adminPort + " is the proxy's port (-p) too: "
              + "give the admin listener another port, or 0 for any free one", e);
        }
      }
    }
    if (cacheStatusHeader == null && requestIdHeader == null && purgeFrom == null && cacheMaxEntryMb == null
        && !storeSetCookie && targetedField == null && !hideTargetedField) {
      return;
    }
    ProxyConfig snapshot = snapshot(builder);
    Optional<CacheSpec> cache = snapshot.cache();
    if (cacheStatusHeader != null && cache.isEmpty()) {
      throw new IllegalArgumentException("--cache-status-header needs a cache (-m, --cache-mb N)");
    }
    if (purgeFrom != null && cache.isEmpty()) {
      throw new IllegalArgumentException("--purge-from needs a cache (-m, --cache-mb N)");
    }
    if (cacheMaxEntryMb != null) {
      if (cache.isEmpty()) {
        throw new IllegalArgumentException("--cache-max-entry-mb needs a cache (-m, --cache-mb N)");
      }
      long bytes = (long) cacheMaxEntryMb << 20;
      if (bytes > cache.get().maxSizeBytes()) {
        throw new IllegalArgumentException("--cache-max-entry-mb " + cacheMaxEntryMb + " is more than the whole cache ("
            + (cache.get().maxSizeBytes() >> 20) + " MiB, -m): give a larger -m or a smaller entry size");
      }
      cache = Optional.of(cache.get().maxEntryBytes(bytes));
      builder.cache(cache.get());
    }
    if (purgeFrom != null) {
      cache = Optional.of(cache.get().purgeFrom(purgeFrom.toArray(String[]::new)));
      builder.cache(cache.get());
    }
    cache = storing(cache);
    cache.ifPresent(builder::cache);
    String statusHeader = cacheStatusHeader != null ? cacheStatusHeader
        : cache.map(CacheSpec::statusHeader).orElse(null);
    String id = requestIdHeader != null ? requestIdHeader : snapshot.requestIdHeader();
    if (id.equalsIgnoreCase(statusHeader)) {
      // The builder's own message names its methods, not the flags (probe d25).
      throw new IllegalArgumentException((requestIdHeader != null ? "--request-id-header " + id
          : "the request ID header " + id + " (--request-id-header's default)") + " is the cache's status header too ("
          + (cacheStatusHeader != null ? "--cache-status-header" : "X-Cache, --cache-status-header's default")
          + "), and would hide every HIT and MISS: give --request-id-header or --cache-status-header another name");
    }
    if (cacheStatusHeader != null) {
      builder.cache(cache.get().statusHeader(cacheStatusHeader));
    }
    if (requestIdHeader != null) {
      builder.requestIdHeader(requestIdHeader);
    }
  }



  /**
   * {@code cache} with what the flags say it stores and reads; the flags refused without a cache.
   *
   * @throws IllegalArgumentException naming the flag
   */
  private Optional<CacheSpec> storing(Optional<CacheSpec> cache) {
    String flag = storeSetCookie ? "--cache-store-set-cookie" : targetedField != null ? "--cache-targeted-field"
        : hideTargetedField ? "--cache-hide-targeted-field" : null;
    if (flag == null) {
      return cache;
    }
    if (cache.isEmpty()) {
      throw new IllegalArgumentException(flag + " needs a cache (-m, --cache-mb N)");
    }
    CacheSpec spec = cache.get();
    if (storeSetCookie) {
      spec = spec.storeSetCookie(true);
    }
    if (targetedField != null) {
      spec = spec.targetedField(targetedField);
    }
    if (hideTargetedField) {
      spec = spec.hideTargetedField();
    }
    return Optional.of(spec);
  }

  /**
   * The configuration so far, for the cache and request ID the other flags set. The builder keeps
   * its options to itself, so they are read back from a snapshot of it; a snapshot that does not
   * validate yet fails the same way at build().
   */
  private ProxyConfig snapshot(ProxyServer.Builder builder) {
    try {
      return builder.buildConfig();
    } catch (IllegalStateException e) {
      throw new IllegalArgumentException((cacheStatusHeader != null ? "--cache-status-header: " : "")
          + e.getMessage(), e);
    }
  }

  private void once(String flag) {
    if (!REPEATABLE.contains(flag) && !seen.add(flag)) {
      throw new IllegalArgumentException(flag + " may be given only once");
    }
  }

  private void errorPage(String flag, String value, ProxyServer.Builder builder) {
    int equals = value.indexOf('=');
    if (equals <= 0 || equals == value.length() - 1) {
      throw new IllegalArgumentException(flag + " must be STATUS=FILE, such as 502=pages/502.html (was " + value + ")");
    }
    String statusText = value.substring(0, equals);
    int status;
    try {
      status = Integer.parseInt(statusText);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + " status must be a number from 400 to 599 (was " + statusText + ")");
    }
    if (status < 400 || status > 599) {
      throw new IllegalArgumentException(flag + " status must be a number from 400 to 599 (was " + status + ")");
    }
    if (!errorPageStatuses.add(status)) {
      throw new IllegalArgumentException(flag + " was given twice for status " + status);
    }
    Path file = Path.of(value.substring(equals + 1));
    String html;
    try {
      html = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalArgumentException(flag + " cannot read " + file + ": " + PemFiles.why(e), e);
    } catch (RuntimeException e) {
      // Bytes that are not UTF-8 (MalformedInputException is an IOException; this is the rest).
      throw new IllegalArgumentException(flag + " cannot read " + file + ": " + e.getMessage(), e);
    }
    builder.errorPage(status, html);
  }

  private static int port(String flag, String value) {
    int port;
    try {
      port = Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + " must be a port from 0 to 65535 (was " + value + ")");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException(flag + " must be a port from 0 to 65535 (was " + value + ")");
    }
    return port;
  }

  private static AccessLogFormat accessLog(String flag, String value) {
    return switch (value.toLowerCase(Locale.ROOT)) {
      case "combined" -> AccessLogFormat.COMBINED;
      case "json" -> AccessLogFormat.JSON;
      case "off" -> AccessLogFormat.OFF;
      default -> throw new IllegalArgumentException(flag + " must be combined, json or off (was " + value + ")");
    };
  }
}
