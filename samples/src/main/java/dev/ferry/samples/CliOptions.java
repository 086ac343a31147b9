package dev.ferry.samples;

import dev.ferry.proxy.CacheSpec;
import dev.ferry.proxy.Concurrency;
import dev.ferry.proxy.ProxyConfig;
import dev.ferry.proxy.ProxyServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * Parses the command line onto a {@link ProxyServer.Builder}. Each flag maps to one builder
 * method, so defaults and validation messages live in one place: the builder.
 */
final class CliOptions {
  /** CacheSpec's largest size, 1 TiB, in the MiB of {@code -m}. */
  static final int MAX_CACHE_MB = 1 << 20;
  static final int DEFAULT_PORT = 8080;

  static final String USAGE = String.join("\n",
      "Usage: java -jar ferry.jar [options]",
      "",
      "Runs Ferry, an HTTP forward proxy (or a reverse proxy with --upstream).",
      "",
      "Options:",
      "  -p, --port PORT              port to listen on (default 8080; 0 = any free port)",
      "  -b, --bind ADDRESS           address to listen on (default 127.0.0.1)",
      "  -c, --concurrency MODEL      auto | virtual | pool | epoll | thread (default auto:",
      "                               virtual threads on Java 21+, else the bounded pool, whose",
      "                               200 threads grow to 1000 while clients wait and the CPUs",
      "                               have room; both park idle connections on a selector",
      "                               without a thread; epoll is another name for pool)",
      "      --no-event-loop          every connection on the -c model's threads. By default a",
      "                               proxy without --tls-cert serves its plain GETs, HEADs,",
      "                               DELETEs and OPTIONS (a reverse proxy's with no filters",
      "                               but --allow-*, --deny-*, --rate-limit, --auth,",
      "                               --set-header; a forward proxy's to http:// URLs, with",
      "                               none but those; with -m, a name under a CIDR host rule",
      "                               goes to the threads), small request bodies (up to",
      "                               16 KiB), its",
      "                               cache hits, revalidations and misses that wait for no",
      "                               other fetch on a selector thread per core, everything",
      "                               else (CONNECT too) on the threads;",
      "                               --event-loop insists on that (an error with --tls-cert)",
      "  -t, --threads N              thread cap for pool and thread (default 200; fixed",
      "                               unless --max-threads lets the pool grow)",
      "      --queue N                connections with a request ready that wait for a thread",
      "                               of pool; past them a new client gets 503 (default 10000)",
      "      --max-threads N          let the pool's cap grow from -t up to N while clients",
      "                               wait and the CPUs have room (default: 1000 for auto's",
      "                               pool on Java 17; none for -c pool)",
      RouteOptions.USAGE,
      TlsOptions.USAGE,
      "      --connect-timeout SECS   upstream connect plus TLS handshake (default 10; a",
      "                               connect timeout is 504, a failed handshake 502)",
      "      --upstream-timeout SECS  upstream response timeout (default 60)",
      "      --upstream-keepalive SECS  keep idle upstream connections at most this long",
      "                               (default 4; an upstream's Keep-Alive: timeout shortens it)",
      "      --max-idle-upstream N    idle upstream connections kept per host once load falls",
      "                               (default 64; busier, the excess closes after ~1 s unused)",
      "      --retry-buffer-bytes N   keep a copy of up to N bytes of a request body as it",
      "                               streams upstream, so that a request that met a stale",
      "                               upstream connection, or a route's retry, can send it",
      "                               again (default 65536; never read ahead of the upstream)",
      "      --idle-timeout SECS      client keep-alive idle timeout (default 60)",
      "      --header-timeout SECS    time to send a request head, from accept (default 30)",
      "      --write-timeout SECS     longest a write to a client, an upstream or a tunnel may",
      "                               make no progress before the connection is closed (default 60)",
      "      --min-body-rate BYTES_PER_S  slowest request body, after 5 s (default 240; 0 = off)",
      "      --request-buffer-bytes N  receive request bodies up to N bytes whole before they",
      "                               go upstream, a slow client waiting without a thread",
      "                               (default 1048576; 0 = await no body in memory)",
      "      --request-spool-bytes N  disk space for larger request bodies received whole in",
      "                               temporary files, all together (default 268435456;",
      "                               0 = never write a body to disk)",
      "      --request-spool-dir DIR  directory for those files (default java.io.tmpdir)",
      "      --max-body-bytes N       largest request body accepted (default unlimited;",
      "                               0 refuses every body, unlike nginx's 0)",
      "      --max-connections N      most client connections at once (default 10000); more",
      "                               are answered 503",
      "      --max-request-line-bytes N  longest request line (default 8192)",
      "      --max-header-bytes N     largest header section of a request or an upstream's",
      "                               response (default 65536)",
      "      --max-header-count N     most header fields in one (default 100)",
      "  -m, --cache-mb N             RFC 9111 shared cache of N MiB (default 0: no cache)",
      "",
      FilterOptions.USAGE,
      ObservabilityOptions.USAGE,
      "  -v, --verbose                log every step of every exchange (debug)",
      "  -q, --quiet                  log warnings only (no access log)",
      "  -h, --help                   print this help",
      "      --version                print the version",
      "",
      "A long option's value may also follow an equals sign: --port=8081.");

  /**
   * The parsed command line; {@code configFile} is null without {@code --config}, and
   * {@code configBytes} its content as read before it was parsed (the reloader's baseline: an
   * edit made while the proxy starts differs from it); {@code help} and {@code version} ask for
   * that text instead of a proxy; {@code writeFiles} writes the files the flags ask for (a
   * generated CA) before the proxy starts, and {@code removeFiles} removes them if it could not.
   */
  record Parsed(ProxyServer.Builder builder, String logLevel, boolean help, boolean version, Path configFile,
      byte[] configBytes, Runnable writeFiles, Runnable removeFiles) {}

  private CliOptions() {}

  /**
   * Parses {@code args}.
   *
   * @throws IllegalArgumentException naming the flag and what to fix
   */
  static Parsed parse(String... given) {
    String[] args = splitEquals(given);
    ProxyServer.Builder builder = ProxyServer.builder().port(DEFAULT_PORT);
    Settings settings = new Settings();
    FilterOptions filters = new FilterOptions();
    RouteOptions routes = new RouteOptions();
    Path configFile = configFile(args);
    ConfigFile config = null;
    byte[] configBytes = null;
    if (configFile != null) {
      configBytes = ConfigNode.bytes(configFile);
      // The file first: flags given with it override its scalar options (the builder's last-wins).
      config = ConfigFile.read(configFile, builder, filters);
      filters.fileRead();
      settings.model = config.concurrency() != null ? config.concurrency() : settings.model;
      settings.threads = config.threads() != null ? config.threads() : settings.threads;
      settings.queue = config.queue() != null ? config.queue() : settings.queue;
      settings.maxThreads = config.maxThreads() != null ? config.maxThreads() : settings.maxThreads;
      settings.fileCache = config.cache();
      settings.tls.fileUpstreamCa(config.upstreamCa());
    }
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      if ((SINGLE.contains(flag) || isSwitch(flag)) && !seen.add(canonical(flag))) {
        throw new IllegalArgumentException(flag + " may be given only once");
      }
      try {
        i = apply(args, i, flag, builder, filters, routes, settings);
      } catch (IllegalArgumentException e) {
        throw e.getMessage() != null && e.getMessage().contains(flag) ? e
            : new IllegalArgumentException(flag + ": " + e.getMessage(), e);
      }
      if (settings.help || settings.version) {
        return new Parsed(builder, settings.logLevel, settings.help, settings.version, configFile,
            configBytes, () -> { }, () -> { });
      }
    }
    if (settings.verbose && settings.quiet) {
      throw new IllegalArgumentException("-v/--verbose and -q/--quiet contradict each other: keep one");
    }
    if (seen.contains("--event-loop") && seen.contains("--no-event-loop")) {
      throw new IllegalArgumentException("--event-loop and --no-event-loop contradict each other: keep one");
    }
    if (settings.quiet) {
      settings.observability.checkQuiet();
    }
    if (seen.contains("--request-spool-dir") && Long.valueOf(0).equals(settings.spoolBytes)) {
      throw new IllegalArgumentException("--request-spool-dir and --request-spool-bytes 0 contradict "
          + "each other (0 turns spooling off): keep one");
    }
    if (Long.valueOf(0).equals(settings.spoolBytes) && config != null && config.spoolDirectory() != null) {
      // Refused in the builder's words, it named neither the flag nor the file (probe readmecli F2).
      throw config.spoolDirectory().error("contradicts --request-spool-bytes 0 (0 turns spooling "
          + "off): keep one");
    }
    // listener.threads, .queue and .maxThreads count like -t, --queue and --max-threads (the
    // file's option names are the flags'), which override them.
    String threadsOption = givenBy(seen, "--threads", "-t/--threads",
        config == null ? null : config.threads(), "listener.threads");
    String queueOption = givenBy(seen, "--queue", "--queue", config == null ? null : config.queue(), "listener.queue");
    String maxThreadsOption = givenBy(seen, "--max-threads", "--max-threads",
        config == null ? null : config.maxThreads(), "listener.maxThreads");
    String modelOption = Objects.requireNonNullElse(givenBy(seen, "--concurrency", "-c/--concurrency",
        config == null ? null : config.concurrency(), "listener.concurrency"), "-c/--concurrency");
    try {
      builder.concurrency(ConcurrencyOptions.of(settings.model, modelOption,
          new ConcurrencyOptions.Given(settings.threads, threadsOption),
          new ConcurrencyOptions.Given(settings.queue, queueOption),
          new ConcurrencyOptions.Given(settings.maxThreads, maxThreadsOption)));
    } catch (IllegalArgumentException e) {
      // An error about the file's listener.concurrency, .threads, .queue or .maxThreads names its line.
      String message = e.getMessage();
      ConfigNode node = config == null ? null
          : message.startsWith("listener.concurrency") ? config.concurrencyNode()
          : message.startsWith("listener.threads") ? config.threadsNode()
          : message.startsWith("listener.queue") ? config.queueNode()
          : message.startsWith("listener.maxThreads") ? config.maxThreadsNode() : null;
      if (node != null) {
        node.call(() -> {
          throw e;
        });
      }
      throw e;
    }
    if (config != null && routes.any()) {
      throw new IllegalArgumentException(routes.firstFlag() + " cannot be combined with --config: "
          + "pools and routes come from the file");
    }
    boolean reverse = routes.reverse() || (config != null && config.reverse());
    settings.observability.checkMode(reverse);
    filters.applyTo(builder, reverse);
    routes.applyTo(builder);
    settings.observability.applyTo(builder);
    settings.tls.applyTo(builder);
    try {
      // Options that contradict each other are a usage error too: exit 2.
      ProxyConfig built = builder.buildConfig();
      if (config != null) {
        config.checkCacheAsked(built);
      }
      filters.checkNotSetting(built.requestIdHeader());
    } catch (IllegalStateException e) {
      boolean aboutRoutes = e.getMessage().startsWith("route ") || e.getMessage().startsWith("two routes ");
      String source = !aboutRoutes ? "" : routes.any() ? "--route: "
          : config != null ? "--config " + configFile + ": " : "";
      throw new IllegalArgumentException(source + e.getMessage(), e);
    }
    return new Parsed(builder, settings.logLevel, false, false, configFile, configBytes,
        settings.tls::writeGenerated, settings.tls::removeWritten);
  }

  /**
   * {@code --name=value} as the two arguments {@code --name value}, for the options that take a
   * value; anything else (a value that itself starts with {@code --}) is left as it is.
   */
  private static String[] splitEquals(String[] args) {
    List<String> split = new ArrayList<>(args.length + 4);
    for (String arg : args) {
      int equals = arg.indexOf('=');
      if (arg.startsWith("--") && equals > 2 && takesValue(arg.substring(0, equals))) {
        split.add(arg.substring(0, equals));
        split.add(arg.substring(equals + 1));
      } else {
        split.add(arg);
      }
    }
    return split.toArray(new String[0]);
  }

  /** The value of {@code --config}, read before the other flags so that they override the file. */
  private static Path configFile(String[] args) {
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--config")) {
        Path file = Path.of(value(args, i + 1, "--config"));
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
          throw new IllegalArgumentException("--config cannot read " + file + ": "
              + (Files.exists(file) ? "not a readable file" : "no such file"));
        }
        return file;
      }
    }
    return null;
  }

  /**
   * What names a setting in errors: the flag ({@code name}) if it was {@code seen}, else the config
   * file's {@code key} if the file gave a value, else null (the setting's default).
   */
  private static String givenBy(Set<String> seen, String flag, String name, Object fromFile, String key) {
    return seen.contains(flag) ? name : fromFile != null ? key : null;
  }

  /** Options that are not builder calls themselves. */
  private static final class Settings {
    String model = "auto";
    /** The cap of {@code auto}'s pool on Java 17, where it starts. */
    int threads = Concurrency.auto().maxThreads();
    /** The queue of {@code auto}'s pool on Java 17, as many as the default connection limit. */
    int queue = Concurrency.auto().queueSize();
    /** The pool's ceiling, read only where --max-threads or listener.maxThreads gave it. */
    int maxThreads;
    String logLevel = "info";
    boolean help;
    boolean version;
    boolean verbose;
    boolean quiet;
    Long spoolBytes;
    /** The config file's cache, whose other options {@code -m} keeps; null without one. */
    CacheSpec fileCache;
    final ObservabilityOptions observability = new ObservabilityOptions();
    final TlsOptions tls = new TlsOptions();
  }

  /** Applies the flag at {@code i} (and its value); returns the index of the last argument used. */
  private static int apply(String[] args, int i, String flag, ProxyServer.Builder builder,
      FilterOptions filters, RouteOptions routes, Settings settings) {
      switch (flag) {
        case "-h", "--help" -> settings.help = true;
        case "--version" -> settings.version = true;
        case "-v", "--verbose" -> {
          settings.logLevel = "debug";
          settings.verbose = true;
        }
        case "-q", "--quiet" -> {
          settings.logLevel = "warn";
          settings.quiet = true;
        }
        case "-p", "--port" -> builder.port(intValue(flag, value(args, ++i, flag)));
        case "-b", "--bind" -> {
          String host = value(args, ++i, flag);
          ListenAddresses.requireLocal("--bind", host);
          builder.bindAddress(host);
        }
        case "-c", "--concurrency" -> settings.model = value(args, ++i, flag).toLowerCase(Locale.ROOT);
        case "--event-loop" -> builder.eventLoop(true);
        case "--no-event-loop" -> builder.eventLoop(false);
        case "-t", "--threads" -> settings.threads = intValue(flag, value(args, ++i, flag));
        case "--queue" -> settings.queue = intValue(flag, value(args, ++i, flag));
        case "--max-threads" -> settings.maxThreads = intValue(flag, value(args, ++i, flag));
        case "--config" -> value(args, ++i, flag); // read before the other flags
        case "--connect-timeout" -> builder.connectTimeout(seconds(flag, value(args, ++i, flag)));
        case "--upstream-timeout" -> builder.upstreamTimeout(seconds(flag, value(args, ++i, flag)));
        case "--upstream-keepalive" -> builder.upstreamKeepAlive(seconds(flag, value(args, ++i, flag)));
        case "--max-idle-upstream" -> builder.maxIdleUpstreamConnections(intValue(flag, value(args, ++i, flag)));
        case "--retry-buffer-bytes" -> builder.retryBufferBytes(intValue(flag, value(args, ++i, flag)));
        case "--idle-timeout" -> builder.idleTimeout(seconds(flag, value(args, ++i, flag)));
        case "--header-timeout" -> builder.requestHeaderTimeout(seconds(flag, value(args, ++i, flag)));
        case "--write-timeout" -> builder.writeTimeout(seconds(flag, value(args, ++i, flag)));
        case "--min-body-rate" -> builder.minRequestBodyRate(longValue(flag, value(args, ++i, flag)));
        case "--request-buffer-bytes" -> builder.requestBufferBytes(intValue(flag, value(args, ++i, flag)));
        case "--request-spool-bytes" -> {
          settings.spoolBytes = longValue(flag, value(args, ++i, flag));
          builder.requestSpoolBytes(settings.spoolBytes);
        }
        case "--request-spool-dir" -> builder.requestSpoolDirectory(Path.of(value(args, ++i, flag)));
        case "--max-body-bytes" -> builder.maxRequestBodyBytes(longValue(flag, value(args, ++i, flag)));
        case "--max-connections" -> builder.maxConnections(intValue(flag, value(args, ++i, flag)));
        case "--max-request-line-bytes" -> builder.maxRequestLineBytes(intValue(flag, value(args, ++i, flag)));
        case "--max-header-bytes" -> builder.maxHeaderBytes(intValue(flag, value(args, ++i, flag)));
        case "--max-header-count" -> builder.maxHeaderCount(intValue(flag, value(args, ++i, flag)));
        case "-m", "--cache-mb" -> {
          int megabytes = intValue(flag, value(args, ++i, flag));
          if (megabytes > MAX_CACHE_MB) {
            // In the unit the flag takes, not the bytes CacheSpec counts (probe d25).
            throw new IllegalArgumentException(flag + " must be at most " + MAX_CACHE_MB + " (1 TiB; was "
                + megabytes + ")");
          } else if (megabytes > 0) {
            CacheSpec base = settings.fileCache != null ? settings.fileCache : CacheSpec.inMemory();
            builder.cache(base.maxSizeBytes((long) megabytes << 20));
          } else if (megabytes < 0) {
            throw new IllegalArgumentException(flag + " must be 0 (no cache) or more (was " + megabytes + ")");
          }
        }
        default -> {
          if (RouteOptions.SWITCHES.contains(flag)) {
            routes.add(flag);
          } else if (RouteOptions.FLAGS.contains(flag)) {
            routes.add(flag, value(args, ++i, flag));
          } else if (FilterOptions.SWITCHES.contains(flag)) {
            filters.add(flag);
          } else if (FilterOptions.FLAGS.contains(flag)) {
            filters.add(flag, value(args, ++i, flag));
          } else if (ObservabilityOptions.SWITCHES.contains(flag)) {
            settings.observability.add(flag, builder);
          } else if (ObservabilityOptions.FLAGS.contains(flag)) {
            settings.observability.add(flag, value(args, ++i, flag), builder);
          } else if (TlsOptions.SWITCHES.contains(flag)) {
            settings.tls.add(flag);
          } else if (TlsOptions.FLAGS.contains(flag)) {
            settings.tls.add(flag, value(args, ++i, flag));
          } else {
            throw new IllegalArgumentException("unknown option " + flag);
          }
        }
      }
      return i;
  }

  private static String value(String[] args, int index, String flag) {
    if (index >= args.length) {
      throw new IllegalArgumentException(flag + " needs a value");
    }
    if (args[index].isEmpty()) {
      throw new IllegalArgumentException(flag + " needs a value (was empty)");
    }
    return args[index];
  }

  /**
   * {@code value} as an {@code int}; one past any {@code int} is refused as out of range, not
   * "up to 2147483647", which no flag's own range is (probe cli F2): the setting's range check
   * names that range for any value that fits.
   */
  static int intValue(String flag, String value) {
    long parsed = longValue(flag, value);
    if (parsed > Integer.MAX_VALUE || parsed < Integer.MIN_VALUE) {
      throw outOfRange(flag, value);
    }
    return (int) parsed;
  }

  private static long longValue(String flag, String value) {
    try {
      return Long.parseLong(value);
    } catch (NumberFormatException e) {
      if (value.matches("-?\\d+")) {
        throw outOfRange(flag, value);
      }
      throw new IllegalArgumentException(flag + " must be a whole number (was " + value + ")");
    }
  }

  private static IllegalArgumentException outOfRange(String flag, String value) {
    return new IllegalArgumentException(flag + " is out of range (was " + value + ")");
  }

  /** Whole or fractional seconds ({@code 30}, {@code 0.5}). */
  private static Duration seconds(String flag, String value) {
    return Seconds.parse(flag, value);
  }

  private static boolean takesValue(String flag) {
    return SINGLE.contains(flag) || RouteOptions.FLAGS.contains(flag) || FilterOptions.FLAGS.contains(flag)
        || ObservabilityOptions.FLAGS.contains(flag) || TlsOptions.FLAGS.contains(flag);
  }

  /** Flags that set one value: given twice, the first would be silently dropped. */
  private static final Set<String> SINGLE = Set.of("-p", "--port", "-b", "--bind", "-c",
      "--concurrency", "-t", "--threads", "--queue", "--max-threads", "--connect-timeout",
      "--upstream-timeout", "--upstream-keepalive", "--max-idle-upstream", "--retry-buffer-bytes",
      "--idle-timeout", "--header-timeout", "--write-timeout", "--min-body-rate", "--request-buffer-bytes",
      "--request-spool-bytes", "--request-spool-dir", "--max-body-bytes", "--max-connections",
      "--max-request-line-bytes", "--max-header-bytes", "--max-header-count", "-m", "--cache-mb", "--lb", "--health-check", "--retries",
      "--max-requests-per-pool", "--config");

  /** A flag without a value: given twice, it is a mistake (a copy-paste, a stale script line). */
  private static boolean isSwitch(String flag) {
    return flag.equals("-v") || flag.equals("--verbose") || flag.equals("-q") || flag.equals("--quiet")
        || flag.equals("--event-loop") || flag.equals("--no-event-loop")
        || RouteOptions.SWITCHES.contains(flag) || FilterOptions.SWITCHES.contains(flag)
        || ObservabilityOptions.SWITCHES.contains(flag) || TlsOptions.SWITCHES.contains(flag);
  }

  private static String canonical(String flag) {
    return switch (flag) {
      case "-v" -> "--verbose";
      case "-q" -> "--quiet";
      case "-p" -> "--port";
      case "-b" -> "--bind";
      case "-c" -> "--concurrency";
      case "-t" -> "--threads";
      case "-m" -> "--cache-mb";
      default -> flag;
    };
  }
}
