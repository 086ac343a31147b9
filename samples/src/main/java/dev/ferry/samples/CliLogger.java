package dev.ferry.samples;

import dev.ferry.proxy.ProxyServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.function.IntSupplier;
import org.slf4j.MDC;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;

/**
 * A logger of {@link CliLogProvider}: {@code [timestamp] [LEVEL] [thread] message} on stderr;
 * the access log's lines bare, and batched (see {@link CliLogSink}).
 */
final class CliLogger extends LegacyAbstractLogger {
  private static final long serialVersionUID = 1L;
  /** The engine's access log, whose lines carry their own time. */
  static final String ACCESS_LOGGER = "dev.ferry.access";
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX");
  /**
   * Resolved once, when the first logger is made at start: resolving it reads the JDK's time zone
   * data from a file, which a process out of file descriptors cannot open, and the first warning
   * of such a process (a failed accept) then threw an Error instead of being logged.
   */
  private static final ZoneId ZONE = ZoneId.systemDefault();

  /** Read at each call: a logger made before the flags were read still follows them. */
  private final IntSupplier threshold;

  CliLogger(String name, Level level) {
    this(name, level::toInt);
  }

  CliLogger(String name, IntSupplier threshold) {
    this.name = name;
    this.threshold = threshold;
  }

  @Override
  public boolean isTraceEnabled() {
    return Level.TRACE.toInt() >= threshold.getAsInt();
  }

  @Override
  public boolean isDebugEnabled() {
    return Level.DEBUG.toInt() >= threshold.getAsInt();
  }

  @Override
  public boolean isInfoEnabled() {
    return Level.INFO.toInt() >= threshold.getAsInt();
  }

  @Override
  public boolean isWarnEnabled() {
    return Level.WARN.toInt() >= threshold.getAsInt();
  }

  @Override
  public boolean isErrorEnabled() {
    return Level.ERROR.toInt() >= threshold.getAsInt();
  }

  @Override
  protected String getFullyQualifiedCallerName() {
    return null;
  }

  @Override
  protected void handleNormalizedLoggingCall(Level level, Marker marker, String pattern,
      Object[] arguments, Throwable throwable) {
    // The access log's one argument is its whole line: no placeholders to look for.
    boolean access = name.equals(ACCESS_LOGGER);
    String message = access && "{}".equals(pattern) && arguments != null && arguments.length == 1
        ? String.valueOf(arguments[0]) : MessageFormatter.basicArrayFormat(pattern, arguments);
    // An access line is a log format of its own (combined, one JSON object): as nginx writes
    // it, so that log tools and jq read it as it is (probe o14).
    StringBuilder line = new StringBuilder(128)
        .append(access ? message
            : line(OffsetDateTime.now(ZONE), level, threadColumn(), message))
        .append(System.lineSeparator());
    if (throwable != null) {
      StringWriter trace = new StringWriter();
      throwable.printStackTrace(new PrintWriter(trace));
      line.append(trace);
    }
    // One piece per event, so lines from concurrent threads do not interleave.
    CliLogSink.write(line, access);
  }

  /**
   * {@code value} as the CLI's own key=value events carry a file path or an error: quoted, with
   * {@code "} and {@code \} escaped and control characters shown as {@code ?} (as its startup
   * errors show them), so that a logfmt parser reads it back whole and no value (a config
   * file's crafted key, echoed in an error) can end the line and forge the next (probe o1).
   */
  static String quoted(Object value) {
    String text = String.valueOf(value).replace("\\", "\\\\").replace("\"", "\\\"");
    return '"' + text.replaceAll("\\p{Cc}", "?") + '"';
  }

  /**
   * The connection the thread serves ({@link ProxyServer#MDC_CONNECTION}), as nginx's error log
   * names the connection of each line; else the thread's name.
   */
  private static String threadColumn() {
    String connection = MDC.get(ProxyServer.MDC_CONNECTION);
    return connection != null ? connection : Thread.currentThread().getName();
  }

  /** One event as {@code [timestamp] [LEVEL] [thread] message}, without the line end. */
  static String line(OffsetDateTime time, Level level, String thread, String message) {
    return "[" + TIME.format(time) + "] [" + level + "] [" + thread + "] " + message;
  }
}
