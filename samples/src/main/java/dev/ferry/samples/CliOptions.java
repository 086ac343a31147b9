package dev.ferry.samples;

import dev.ferry.proxy.CacheSpec;
import dev.ferry.proxy.Concurrency;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import java.time.Duration;
import java.util.Locale;

/**
 * Parses the command line onto a {@link ProxyServer.Builder}. Each flag maps to one builder
 * method, so defaults and validation messages live in one place: the builder.
 */
final class CliOptions {
  static final int DEFAULT_PORT = 8080;

  static final String USAGE = String.join("\n",
      "Usage: java -jar ferry.jar [options]",
      "",
      "Runs Ferry, an HTTP forward proxy (or a reverse proxy with --upstream).",
      "",
      "Options:",
      "  -p, --port PORT              port to listen on (default 8080; 0 = any free port)",
      "  -b, --bind ADDRESS           address to listen on (default 127.0.0.1)",
      "  -c, --concurrency MODEL      auto | virtual | pool | thread (default auto: virtual",
      "                               threads on Java 21+, else a bounded pool)",
      "  -t, --threads N              thread cap for pool and thread (default 200)",
      "      --upstream URL           reverse proxy to URL, e.g. http://127.0.0.1:9000",
      "      --preserve-host          send the client's Host to the upstream",
      "      --connect-timeout SECS   upstream connect timeout (default 10)",
      "      --upstream-timeout SECS  upstream response timeout (default 60)",
      "      --idle-timeout SECS      client keep-alive idle timeout (default 60)",
      "      --max-body-bytes N       largest request body accepted (default unlimited)",
      "      --max-connections N      most client connections at once (default 10000)",
      "  -m, --cache-mb N             RFC 9111 shared cache of N MiB (default 0: no cache)",
      "",
      "Filters (run in this order: access control, authentication, limits, headers):",
      "      --allow-client CIDR      allow clients in this block; repeatable (others denied)",
      "      --deny-host GLOB         deny destinations like *.ads.example; repeatable",
      "      --auth USER:PASS         require Proxy-Authorization (forward) or Authorization",
      "                               (reverse) Basic credentials; repeatable",
      "      --rate-limit N/s[:BURST] requests per second per client (burst default 2N)",
      "      --max-body-mb N          answer 413 to request bodies over N MiB",
      "      --set-header NAME:VALUE  set a request header; repeatable",
      "  -v, --verbose                log every step of every exchange (debug)",
      "  -q, --quiet                  log warnings only (no access log)",
      "  -h, --help                   print this help");

  /** The parsed command line. */
  record Parsed(ProxyServer.Builder builder, String logLevel, boolean help) {}

  private CliOptions() {}

  /**
   * Parses {@code args}.
   *
   * @throws IllegalArgumentException naming the flag and what to fix
   */
  static Parsed parse(String... args) {
    ProxyServer.Builder builder = ProxyServer.builder().port(DEFAULT_PORT);
    String model = "auto";
    int threads = 200;
    String upstream = null;
    boolean preserveHost = false;
    String logLevel = "info";
    FilterOptions filters = new FilterOptions();
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      switch (flag) {
        case "-h", "--help" -> {
          return new Parsed(builder, logLevel, true);
        }
        case "-v", "--verbose" -> logLevel = "debug";
        case "-q", "--quiet" -> logLevel = "warn";
        case "--preserve-host" -> preserveHost = true;
        case "-p", "--port" -> builder.port(intValue(flag, value(args, ++i, flag)));
        case "-b", "--bind" -> builder.bindAddress(value(args, ++i, flag));
        case "-c", "--concurrency" -> model = value(args, ++i, flag).toLowerCase(Locale.ROOT);
        case "-t", "--threads" -> threads = intValue(flag, value(args, ++i, flag));
        case "--upstream" -> upstream = value(args, ++i, flag);
        case "--connect-timeout" -> builder.connectTimeout(seconds(flag, value(args, ++i, flag)));
        case "--upstream-timeout" -> builder.upstreamTimeout(seconds(flag, value(args, ++i, flag)));
        case "--idle-timeout" -> builder.idleTimeout(seconds(flag, value(args, ++i, flag)));
        case "--max-body-bytes" -> builder.maxRequestBodyBytes(longValue(flag, value(args, ++i, flag)));
        case "--max-connections" -> builder.maxConnections(intValue(flag, value(args, ++i, flag)));
        case "-m", "--cache-mb" -> {
          int megabytes = intValue(flag, value(args, ++i, flag));
          if (megabytes > 0) {
            builder.cache(CacheSpec.inMemory().maxSizeMb(megabytes));
          } else if (megabytes < 0) {
            throw new IllegalArgumentException(flag + " must be 0 (no cache) or more (was " + megabytes + ")");
          }
        }
        default -> {
          if (!FilterOptions.FLAGS.contains(flag)) {
            throw new IllegalArgumentException("unknown option " + flag);
          }
          filters.add(flag, value(args, ++i, flag));
        }
      }
    }
    builder.concurrency(concurrency(model, threads));
    filters.applyTo(builder, upstream != null);
    if (upstream != null) {
      Upstream target = Upstream.of(upstream);
      builder.upstream(preserveHost ? target.preserveHost() : target);
    } else if (preserveHost) {
      throw new IllegalArgumentException("--preserve-host needs --upstream");
    }
    return new Parsed(builder, logLevel, false);
  }

  private static Concurrency concurrency(String model, int threads) {
    return switch (model) {
      case "auto" -> Concurrency.auto();
      case "virtual" -> Concurrency.virtualThreads();
      case "pool" -> Concurrency.boundedPool(threads, 1000);
      case "thread" -> Concurrency.threadPerConnection(threads);
      default -> throw new IllegalArgumentException(
          "--concurrency must be auto, virtual, pool or thread (was " + model + ")");
    };
  }

  private static String value(String[] args, int index, String flag) {
    if (index >= args.length) {
      throw new IllegalArgumentException(flag + " needs a value");
    }
    return args[index];
  }

  private static int intValue(String flag, String value) {
    long parsed = longValue(flag, value);
    if (parsed > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(flag + " must be a whole number (was " + value + ")");
    }
    return (int) parsed;
  }

  private static long longValue(String flag, String value) {
    try {
      return Long.parseLong(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + " must be a whole number (was " + value + ")");
    }
  }

  private static Duration seconds(String flag, String value) {
    return Duration.ofSeconds(longValue(flag, value));
  }
}
