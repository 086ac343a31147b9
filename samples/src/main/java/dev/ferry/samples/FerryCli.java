package dev.ferry.samples;

import dev.ferry.proxy.ProxyServer;
import java.io.UncheckedIOException;
import java.time.Duration;

/**
 * The command-line proxy: {@code java -jar ferry.jar [options]}. See {@link CliOptions#USAGE}.
 * Ctrl-C stops it gracefully, letting exchanges in flight finish for up to ten seconds. With
 * {@code --config FILE}, a change to the file (or SIGHUP) reloads its pools, routes and filters.
 */
public final class FerryCli {
  private FerryCli() {}

  /** Runs the proxy until the JVM is asked to stop. */
  public static void main(String[] args) throws InterruptedException {
    CliOptions.Parsed options;
    try {
      options = CliOptions.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("ferry: " + e.getMessage());
      System.err.println("Run with --help for usage.");
      System.exit(2);
      return;
    }
    if (options.help()) {
      System.out.println(CliOptions.USAGE);
      return;
    }
    // slf4j-simple reads its level once, when the first logger is made: set it before that.
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", options.logLevel());
    System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
    System.setProperty("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSZ");
    ProxyServer proxy;
    try {
      proxy = options.builder().build().start();
    } catch (IllegalArgumentException | IllegalStateException | UncheckedIOException e) {
      System.err.println("ferry: " + e.getMessage());
      System.exit(1);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> proxy.stop(Duration.ofSeconds(10)),
        "ferry-shutdown"));
    if (options.configFile() != null) {
      // Reloads go through the same parse as startup, so the flags keep overriding the file.
      ConfigReloader.watch(proxy, options.configFile(), () -> CliOptions.parse(args).builder());
    }
    System.out.println("Ferry " + proxy.config());
    System.out.println("Listening on " + proxy.address().getAddress().getHostAddress() + ":" + proxy.port());
    proxy.awaitTermination();
  }
}
