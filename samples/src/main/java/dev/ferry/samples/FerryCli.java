package dev.ferry.samples;

import dev.ferry.proxy.ProxyConfig;
import dev.ferry.proxy.ProxyServer;
import java.io.UncheckedIOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import org.slf4j.LoggerFactory;

/**
 * The command-line proxy: {@code java -jar ferry.jar [options]}. See {@link CliOptions#USAGE}.
 * SIGTERM or Ctrl-C stops it gracefully, letting exchanges in flight finish for up to ten
 * seconds, and it exits 0 (1 when it cannot start, 2 for a usage error). With
 * {@code --config FILE}, a change to the file (or SIGHUP) reloads its pools, routes and filters.
 * With {@code --admin-port}, the admin listener also serves Prometheus {@code /metrics}.
 * Started without a starting heap size, it gives back what the JVM committed at launch once the
 * proxy runs ({@link HeapTrim}).
 *
 * <p>The banner (configuration and {@code Listening on ADDRESS:PORT}) goes to stdout, whatever
 * the log level: scripts wait for the {@code Listening} line. Logs go to stderr as
 * {@code [timestamp] [LEVEL] [thread] message}.
 */
public final class FerryCli {
  private FerryCli() {}

  /**
   * The line a refusal prints, its control characters as {@code ?}: a value echoed from a flag or
   * a config file could otherwise clear the terminal or forge a line of a captured log (probe v24).
   */
  private static String error(RuntimeException e) {
    return ("ferry: " + e.getMessage()).replaceAll("\\p{Cc}", "?");
  }

  /** Runs the proxy until the JVM is asked to stop. */
  public static void main(String[] args) throws InterruptedException {
    // A stop asked for (systemctl stop, docker stop, Ctrl-C) is a server's normal end: exit 0
    // once drained by the shutdown hook, not the JVM's 128 + signal, which service managers count
    // as a failure (nginx and Caddy exit 0 too). First thing, so that one sent while the proxy
    // starts (a CA being generated, say) ends it the same way.
    for (String stop : new String[] {"TERM", "INT"}) {
      Signals.on(stop, () -> System.exit(0));
    }
    Thread.setDefaultUncaughtExceptionHandler(MemoryGuards.exitOnOutOfMemory(Runtime.getRuntime()::halt));
    // Before anything can log: parsing loads files (a --ca-cert CA) through engine classes whose
    // loggers would bind slf4j to whatever provider it found first (probe d24).
    System.setProperty("slf4j.provider", CliLogProvider.class.getName());
    System.setProperty("slf4j.internal.verbosity", "WARN");
    CliOptions.Parsed options;
    try {
      options = CliOptions.parse(args);
    } catch (IllegalArgumentException e) {
      usageError(e);
      return;
    }
    // Before the options are checked together: parsing stops at --help, and the checks of
    // flags before it failed with a stack trace (probe readmecli F1).
    if (options.help()) {
      System.out.println(CliOptions.USAGE);
      return;
    }
    if (options.version()) {
      System.out.println("ferry " + version() + " (Java " + Runtime.version() + ")");
      return;
    }
    try {
      MemoryGuards.checkCacheFits(options.builder().buildConfig(), Runtime.getRuntime().maxMemory());
    } catch (IllegalArgumentException e) {
      usageError(e);
      return;
    }
    configureLogging(options.logLevel());
    PrometheusEndpoint metrics = new PrometheusEndpoint();
    ProxyServer proxy;
    try {
      proxy = withMetrics(options.builder(), metrics).build();
    } catch (IllegalArgumentException | IllegalStateException | UncheckedIOException e) {
      System.err.println(error(e));
      System.exit(1);
      return;
    }
    try {
      // Before the listener opens: a client that finds the port open finds the CA file too.
      options.writeFiles().run();
    } catch (IllegalArgumentException e) {
      System.err.println(error(e));
      System.exit(2);
      return;
    }
    try {
      proxy.start();
    } catch (IllegalArgumentException | IllegalStateException | UncheckedIOException e) {
      options.removeFiles().run();
      System.err.println(error(e));
      System.exit(1);
      return;
    }
    if (proxy.adminAddress().isPresent()) {
      metrics.bindTo(proxy);
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      proxy.stop(Duration.ofSeconds(10));
      CliLogSink.flush();
    }, "ferry-shutdown"));
    if (options.configFile() != null) {
      // Reloads go through the same parse as startup, so the flags keep overriding the file; the
      // same metrics listener goes on the new builder, which the running proxy requires.
      ConfigReloader.watch(proxy, options.configFile(), options.configBytes(),
          () -> reloaded(args, metrics, proxy.config()));
    } else {
      // A SIGHUP the JVM does not handle ends it: logrotate and service managers send one to ask
      // for a reload, never to stop a server.
      Signals.on("HUP", () -> LoggerFactory.getLogger(FerryCli.class).info("sighup_ignored "
          + "reason=\"no --config to reload; certificate files reload by themselves when they change\""));
    }
    // Before the Listening line, which benchmarks and scripts wait for: the collection's pause
    // then falls before their first request.
    HeapTrim.afterStart();
    Banner.print(proxy, options.logLevel());
    proxy.awaitTermination();
  }

  /**
   * The CLI's log level, for every logger, those made while the flags were parsed included (the
   * binding itself is chosen first thing in {@link #main}).
   */
  private static void configureLogging(String level) {
    System.setProperty(CliLogProvider.LEVEL_PROPERTY, level);
    CliLogProvider.level(level);
  }

  /**
   * The builder a reload gives the proxy: the file and the flags parsed again, as at startup, but
   * with what the flags read from files of their own ({@code --error-page} pages, the
   * {@code --ca-cert} CA) as the running proxy has it. Those cannot change on a running proxy,
   * and the flags are the same: an edit of such a file would otherwise make every reload fail,
   * the config file's changes included, until a restart.
   */
  static ProxyServer.Builder reloaded(String[] args, PrometheusEndpoint metrics, ProxyConfig running) {
    ProxyServer.Builder builder = withMetrics(CliOptions.parse(args).builder(), metrics);
    running.errorPages().forEach(builder::errorPage);
    running.interceptTls().ifPresent(builder::interceptTls);
    return builder;
  }

  /** Adds Prometheus {@code /metrics} (and the listener feeding it) when there is an admin listener. */
  static ProxyServer.Builder withMetrics(ProxyServer.Builder builder, PrometheusEndpoint metrics) {
    ProxyConfig config = builder.buildConfig();
    return config.admin().isPresent() ? metrics.install(builder) : builder;
  }

  /** A usage error: the message, a pointer to --help, and exit status 2. */
  private static void usageError(IllegalArgumentException e) {
    System.err.println(error(e));
    System.err.println("Run with --help for usage.");
    System.exit(2);
  }

  /** The version in the jar's manifest; {@code dev} when run from classes, outside the jar. */
  static String version() {
    String version = FerryCli.class.getPackage().getImplementationVersion();
    return version != null ? version : "dev";
  }

  /**
   * An address as {@code host:port}, the host numeric and an IPv6 one in brackets and in RFC
   * 5952's short form ({@code [::1]:8080}, the form a user types back, not Java's
   * {@code 0:0:0:0:0:0:0:1}).
   */
  static String hostPort(InetSocketAddress address) {
    String host = address.getAddress().getHostAddress();
    if (!(address.getAddress() instanceof Inet6Address)) {
      return host + ":" + address.getPort();
    }
    int scope = host.indexOf('%');
    String[] groups = (scope < 0 ? host : host.substring(0, scope)).split(":");
    int runStart = -1;
    int runLength = 1;
    for (int i = 0; i < groups.length; i++) {
      int j = i;
      while (j < groups.length && groups[j].equals("0")) {
        j++;
      }
      if (j - i > runLength) {
        runStart = i;
        runLength = j - i;
      }
    }
    String text = runStart < 0 ? String.join(":", groups)
        : String.join(":", Arrays.copyOfRange(groups, 0, runStart)) + "::"
            + String.join(":", Arrays.copyOfRange(groups, runStart + runLength, groups.length));
    return "[" + text + "]:" + address.getPort();
  }
}
