package dev.ferry.proxy.engine;

import org.slf4j.Logger;
import org.slf4j.event.Level;

/**
 * Logs at a level chosen at run time with the SLF4J 1.7 API. {@code Logger.atLevel} and
 * {@code isEnabledForLevel} are SLF4J 2's: a project whose other dependencies bring slf4j-api 1.7
 * first (Apache HttpClient 5 does) got a {@code NoSuchMethodError} from the engine, at start and
 * then at the end of every exchange. {@code Slf4jApiTest} keeps the engine and the testkit off
 * SLF4J 2's API.
 */
public final class LeveledLog {
  private LeveledLog() {}

  /** Whether {@code log} writes at {@code level} ({@code isEnabledForLevel} is SLF4J 2's). */
  public static boolean isEnabled(Logger log, Level level) {
    return switch (level) {
      case ERROR -> log.isErrorEnabled();
      case WARN -> log.isWarnEnabled();
      case INFO -> log.isInfoEnabled();
      case DEBUG -> log.isDebugEnabled();
      default -> log.isTraceEnabled();
    };
  }

  /** {@code log}'s method for {@code level}, with SLF4J's {@code {}} placeholders. */
  public static void log(Logger log, Level level, String format, Object... arguments) {
    switch (level) {
      case ERROR -> log.error(format, arguments);
      case WARN -> log.warn(format, arguments);
      case INFO -> log.info(format, arguments);
      case DEBUG -> log.debug(format, arguments);
      default -> log.trace(format, arguments);
    }
  }
}
