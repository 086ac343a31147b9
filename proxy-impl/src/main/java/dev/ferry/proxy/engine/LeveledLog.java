package dev.ferry.proxy.engine;

import org.slf4j.Logger;
import org.slf4j.event.Level;

/**
 * Logs at a level chosen at run time with the SLF4J 1.7 API. {@code Logger.atLevel} is SLF4J
 * 2's: a project whose other dependencies bring slf4j-api 1.7 first (Apache HttpClient 5 does)
 * got a {@code NoSuchMethodError} from the engine at start.
 */
public final class LeveledLog {
  private LeveledLog() {}

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
