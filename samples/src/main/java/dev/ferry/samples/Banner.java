package dev.ferry.samples;

import dev.ferry.proxy.Concurrency;
import dev.ferry.proxy.Filter;
import dev.ferry.proxy.ProxyConfig;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Route;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The command-line proxy's startup banner on stdout: what it runs with (port, concurrency,
 * workers, cache, verbosity, filters, routes, admin) and, last, {@code Listening on ADDRESS:PORT},
 * the line scripts wait for. No other line contains "Listening".
 */
final class Banner {
  private Banner() {}

  static void print(ProxyServer proxy, String logLevel) {
    print(proxy, logLevel, System.out);
  }

  static void print(ProxyServer proxy, String logLevel, PrintStream out) {
    ProxyConfig config = proxy.config();
    List<String> lines = new ArrayList<>();
    lines.add("Ferry " + (config.isReverse() ? "reverse" : "forward") + " proxy");
    lines.add(row("port", proxy.port() + " (bind " + config.bindAddress() + ")"));
    lines.add(row("concurrency", concurrency(config.concurrency())));
    lines.add(row("workers", workers(proxy)));
    lines.add(row("cache", config.cache().map(cache -> String.format(Locale.ROOT, "%.1f MiB, status header %s",
        cache.maxSizeBytes() / 1048576.0, cache.statusHeader())).orElse("off")));
    // The access log is written at info: -q (warn) silences it whatever its format.
    String accessLog = logLevel.equals("warn") ? "off (-q)" : config.accessLog().name().toLowerCase(Locale.ROOT);
    lines.add(row("verbose", logLevel.equals("debug") + " (log level " + logLevel + ", access log "
        + accessLog + ")"));
    lines.add(row("filters", filters(config)));
    lines.add(row("routes", routes(config)));
    proxy.adminAddress().ifPresent(admin -> lines.add(row("admin", "http://" + FerryCli.hostPort(admin)
        + " (/_stats, /_dashboard, " + PrometheusEndpoint.PATH + ")")));
    lines.add(row("options", config.toString()));
    lines.add("Listening on " + FerryCli.hostPort(proxy.address()));
    out.println(String.join(System.lineSeparator(), lines));
    out.flush();
  }

  private static String row(String name, String value) {
    return String.format(Locale.ROOT, "  %-12s %s", name, value);
  }

  /** The model by its CLI name; {@code auto} with what it chose on this Java, as the engine chooses. */
  private static String concurrency(Concurrency concurrency) {
    switch (concurrency.kind()) {
      case AUTO:
        int feature = Runtime.version().feature();
        return feature >= 21 ? "auto (virtual threads on Java " + feature + ")"
            : "auto (bounded pool on Java " + feature + ", " + growing(concurrency) + ")";
      case VIRTUAL_THREADS: return "virtual";
      case BOUNDED_POOL:
        return concurrency.threadCeiling() > concurrency.maxThreads() ? "pool (" + growing(concurrency) + ")" : "pool";
      default: return "thread";
    }
  }

  private static String growing(Concurrency concurrency) {
    return "growing to " + concurrency.threadCeiling() + " threads while clients wait and the CPUs have room";
  }

  /** Under virtual threads there is no fixed pool: the count is of live connection tasks. */
  private static String workers(ProxyServer proxy) {
    int workers = proxy.stats().workers();
    int maxQueue = proxy.stats().maxQueueDepth();
    return maxQueue > 0 ? workers + " threads, queue of " + maxQueue : String.valueOf(workers);
  }

  private static String filters(ProxyConfig config) {
    if (config.filters().isEmpty()) {
      return "none";
    }
    List<String> names = new ArrayList<>();
    for (Filter filter : config.filters()) {
      names.add(filter.toString());
    }
    return String.join(", ", names);
  }

  private static String routes(ProxyConfig config) {
    List<String> routes = new ArrayList<>();
    for (Route route : config.routes()) {
      routes.add(route.name() + " -> " + route.upstream());
    }
    config.upstream().ifPresent(upstream -> routes.add("* -> " + upstream));
    return routes.isEmpty() ? "none (forward proxy)" : String.join(", ", routes);
  }
}
