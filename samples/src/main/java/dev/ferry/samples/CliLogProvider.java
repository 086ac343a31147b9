package dev.ferry.samples;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.slf4j.ILoggerFactory;
import org.slf4j.IMarkerFactory;
import org.slf4j.Logger;
import org.slf4j.event.Level;
import org.slf4j.helpers.BasicMarkerFactory;
import org.slf4j.spi.MDCAdapter;
import org.slf4j.spi.SLF4JServiceProvider;

/**
 * The command-line proxy's slf4j binding: one line per event on stderr,
 * {@code [timestamp] [LEVEL] [thread] message}, at one level for every logger. slf4j-simple puts
 * the thread before the level and has no way to reorder; a dozen lines of our own are simpler
 * than another logging library. {@link FerryCli} selects it through the {@code slf4j.provider}
 * system property, so the tests and the other mains keep slf4j-simple.
 *
 * <p>Public with a public constructor only because slf4j instantiates it reflectively.
 */
public final class CliLogProvider implements SLF4JServiceProvider, ILoggerFactory {
  /** The system property that sets the level: trace, debug, info, warn or error. */
  static final String LEVEL_PROPERTY = "ferry.cli.logLevel";

  private final ConcurrentMap<String, Logger> loggers = new ConcurrentHashMap<>();
  private final IMarkerFactory markers = new BasicMarkerFactory();
  /** Carries the connection a thread serves ({@code ProxyServer.MDC_CONNECTION}) for the thread column. */
  private final MDCAdapter mdc = new CliMdc();
  /**
   * The level of every logger, set from the flags once they are read ({@link #level(String)}).
   * Static: slf4j may bind while the flags are parsed (loading a {@code --ca-cert} CA touches
   * engine classes with loggers), and those loggers follow the flags too (probe d24: with
   * {@code --ca-cert}, slf4j bound before its provider was chosen, and {@code -q} was ignored).
   */
  private static volatile int threshold = Level.INFO.toInt();

  /** Made by slf4j. */
  public CliLogProvider() {}

  @Override
  public ILoggerFactory getLoggerFactory() {
    return this;
  }

  @Override
  public IMarkerFactory getMarkerFactory() {
    return markers;
  }

  @Override
  public MDCAdapter getMDCAdapter() {
    return mdc;
  }

  @Override
  public String getRequestedApiVersion() {
    return "2.0.99";
  }

  @Override
  public void initialize() {
    level(System.getProperty(LEVEL_PROPERTY, "info"));
  }

  /** Sets every logger's level: trace, debug, info, warn or error (anything else is info). */
  static void level(String configured) {
    Level level;
    try {
      level = Level.valueOf(configured.toUpperCase(java.util.Locale.ROOT));
    } catch (IllegalArgumentException e) {
      level = Level.INFO;
    }
    threshold = level.toInt();
  }

  private static int threshold() {
    return threshold;
  }

  @Override
  public Logger getLogger(String name) {
    return loggers.computeIfAbsent(name, n -> new CliLogger(n, CliLogProvider::threshold));
  }
}
