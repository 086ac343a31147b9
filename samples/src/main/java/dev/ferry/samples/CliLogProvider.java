package dev.ferry.samples;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.slf4j.ILoggerFactory;
import org.slf4j.IMarkerFactory;
import org.slf4j.Logger;
import org.slf4j.event.Level;
import org.slf4j.helpers.BasicMarkerFactory;
import org.slf4j.helpers.NOPMDCAdapter;
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
  private final MDCAdapter mdc = new NOPMDCAdapter();
  private volatile Level level = Level.INFO;

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
    String configured = System.getProperty(LEVEL_PROPERTY, "info");
    try {
      level = Level.valueOf(configured.toUpperCase(java.util.Locale.ROOT));
    } catch (IllegalArgumentException e) {
      level = Level.INFO;
    }
  }

  @Override
  public Logger getLogger(String name) {
    return loggers.computeIfAbsent(name, n -> new CliLogger(n, level));
  }
}
