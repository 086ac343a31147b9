package dev.ferry.proxy.engine;

import dev.ferry.proxy.AccessLogFormat;
import dev.ferry.proxy.Headers;
import dev.ferry.proxy.engine.admin.Json;
import dev.ferry.proxy.engine.http1.LogValues;
import dev.ferry.proxy.engine.http1.LoggedUrls;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * Writes the access log, one line per exchange on logger {@code dev.ferry.access}, in nginx's
 * {@code combined} format or as JSON. Only the request line, the status, sizes, timing, routing
 * and the {@code Referer} (its credentials redacted as the URL's are, {@link LoggedUrls}) and
 * {@code User-Agent} values are logged: no credential-bearing header
 * ({@code Authorization}, {@code Proxy-Authorization}, {@code Cookie}, {@code Set-Cookie}) is
 * ever read here, and values are escaped so a client cannot forge a line.
 */
final class AccessLog {
  private static final Logger log = LoggerFactory.getLogger("dev.ferry.access");
  private static final DateTimeFormatter CLF =
      DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ROOT).withZone(ZoneOffset.UTC);

  /** What one line says. Fields not known (a head that could not be read) are null. */
  record Entry(Instant time, String client, String method, String url, String version, int status,
      long bytes, long latencyMillis, String upstream, String route, String cache,
      String requestId, String traceId, String failure, Headers requestHeaders) {}

  private final AccessLogFormat format;
  private final Level level;
  /** The last second formatted: lines of the same second reuse its text, as nginx's cached time. */
  private volatile Stamp lastStamp = new Stamp(Long.MIN_VALUE, "");

  private record Stamp(long second, String text) {}

  /**
   * @param quiet log at debug instead of info (proxies started by tests)
   */
  AccessLog(AccessLogFormat format, boolean quiet) {
    this.format = format;
    this.level = quiet ? Level.DEBUG : Level.INFO;
  }

  /** True if entries are written: callers skip building one otherwise. */
  boolean isEnabled() {
    return format != AccessLogFormat.OFF && LeveledLog.isEnabled(log, level);
  }

  void write(Entry entry) {
    if (!isEnabled()) {
      return;
    }
    LeveledLog.log(log, level, "{}", format == AccessLogFormat.JSON ? json(entry) : combined(entry));
  }

  private String combined(Entry e) {
    String request = e.method() == null ? "-" : e.method() + " " + e.url() + " " + e.version();
    return e.client() + " - - [" + stamp(e.time()) + "] \"" + escape(request) + "\" "
        + e.status() + " " + e.bytes() + " \"" + escape(LoggedUrls.redact(header(e, "Referer"))) + "\" \""
        + escape(header(e, "User-Agent")) + "\" rid=" + (e.requestId() == null ? "-" : LogValues.of(e.requestId())) + " ms="
        // A route's default name is its pattern, which a regex may fill with anything: quoted.
        + e.latencyMillis() + (e.route() == null ? "" : " route=" + LogValues.of(e.route()))
        + (e.upstream() == null ? "" : " upstream=" + e.upstream())
        + (e.cache() == null ? "" : " cache=" + e.cache())
        + (e.failure() == null ? "" : " failure=" + e.failure());
  }

  private String stamp(Instant time) {
    Stamp last = lastStamp;
    long second = time.getEpochSecond();
    if (last.second() != second) {
      last = new Stamp(second, CLF.format(time));
      lastStamp = last;
    }
    return last.text();
  }

  private static String json(Entry e) {
    Json json = new Json().begin()
        .field("time", e.time().toString())
        .field("client", e.client())
        .field("method", e.method())
        .field("url", e.url())
        .field("status", e.status())
        .field("bytes", e.bytes())
        .field("latency_ms", e.latencyMillis())
        .field("upstream", e.upstream())
        .field("route", e.route())
        .field("cache", e.cache())
        .field("request_id", e.requestId())
        .field("trace_id", e.traceId());
    if (e.failure() != null) {
      json.field("failure", e.failure());
    }
    return json.end().toString();
  }

  private static String header(Entry e, String name) {
    return e.requestHeaders() == null ? "-" : e.requestHeaders().first(name).orElse("-");
  }

  /** Combined-format escaping: quotes, backslashes and control bytes as nginx does ({@code \xHH}). */
  private static String escape(String value) {
    StringBuilder out = new StringBuilder(value.length());
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '"' || c == '\\' || c < 0x20 || c >= 0x7f) {
        out.append(String.format(Locale.ROOT, "\\x%02X", (int) c & 0xff));
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }
}
