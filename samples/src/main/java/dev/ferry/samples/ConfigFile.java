package dev.ferry.samples;

import dev.ferry.proxy.CacheSpec;
import dev.ferry.proxy.Concurrency;
import dev.ferry.proxy.ProxyConfig;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.UpstreamTls;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * The {@code --config} YAML file: each key is a {@link ProxyServer.Builder} option under the
 * same name (durations in seconds), in sections {@code listener}, {@code timeouts},
 * {@code limits}, {@code cache}, {@code filters} (the filter flags, without their dashes),
 * {@code pools}, {@code routes} and {@code upstream} (see {@link ConfigRoutes}), plus
 * {@code upstreamCa}. Unknown keys are errors, and every error names the line. The README has a
 * complete example.
 */
final class ConfigFile {
  private static final List<String> SECTIONS = List.of("listener", "timeouts", "limits", "cache",
      "upstreamCa", "filters", "pools", "routes", "upstream");
  private static final List<String> LISTENER = List.of("port", "bind", "concurrency", "threads", "queue",
      "maxThreads", "eventLoop");
  private static final List<String> CACHE = List.of("maxSizeBytes", "sizeMb", "maxEntryBytes",
      "storeSetCookie", "purgeFrom", "targetedField", "hideTargetedField");
  private static final List<String> MODELS = List.of("auto", "virtual", "pool", "epoll", "thread");

  private static final Map<String, BiConsumer<ProxyServer.Builder, ConfigNode>> TIMEOUTS = new LinkedHashMap<>();
  private static final Map<String, BiConsumer<ProxyServer.Builder, ConfigNode>> LIMITS = new LinkedHashMap<>();

  static {
    TIMEOUTS.put("connectTimeout", (b, n) -> b.connectTimeout(n.seconds()));
    TIMEOUTS.put("requestHeaderTimeout", (b, n) -> b.requestHeaderTimeout(n.seconds()));
    TIMEOUTS.put("idleTimeout", (b, n) -> b.idleTimeout(n.seconds()));
    TIMEOUTS.put("upstreamTimeout", (b, n) -> b.upstreamTimeout(n.seconds()));
    TIMEOUTS.put("upstreamKeepAlive", (b, n) -> b.upstreamKeepAlive(n.seconds()));
    TIMEOUTS.put("writeTimeout", (b, n) -> b.writeTimeout(n.seconds()));
    LIMITS.put("maxConnections", (b, n) -> b.maxConnections(n.integer()));
    LIMITS.put("maxRequestLineBytes", (b, n) -> b.maxRequestLineBytes(n.integer()));
    LIMITS.put("maxHeaderBytes", (b, n) -> b.maxHeaderBytes(n.integer()));
    LIMITS.put("maxHeaderCount", (b, n) -> b.maxHeaderCount(n.integer()));
    LIMITS.put("maxRequestBodyBytes", (b, n) -> b.maxRequestBodyBytes(n.longValue()));
    LIMITS.put("minRequestBodyRate", (b, n) -> b.minRequestBodyRate(n.longValue()));
    LIMITS.put("retryBufferBytes", (b, n) -> b.retryBufferBytes(n.integer()));
    LIMITS.put("requestBufferBytes", (b, n) -> b.requestBufferBytes(n.integer()));
    LIMITS.put("requestSpoolBytes", (b, n) -> b.requestSpoolBytes(n.longValue()));
    LIMITS.put("requestSpoolDirectory", (b, n) -> b.requestSpoolDirectory(n.directory().resolve(n.text())));
    LIMITS.put("maxIdleUpstreamConnections", (b, n) -> b.maxIdleUpstreamConnections(n.integer()));
  }

  private String concurrency;
  private ConfigNode concurrencyNode;
  private Integer threads;
  private ConfigNode threadsNode;
  private Integer queue;
  private ConfigNode queueNode;
  private Integer maxThreads;
  private ConfigNode maxThreadsNode;
  private boolean reverse;
  private ConfigNode cacheAsked;
  private CacheSpec cache;
  private java.nio.file.Path upstreamCa;
  private ConfigNode spoolDirectory;

  private ConfigFile() {}

  /**
   * Reads {@code file} onto {@code builder}, and its filters onto {@code filters}.
   *
   * @throws ConfigFileException naming the line of the first problem
   */
  static ConfigFile read(Path file, ProxyServer.Builder builder, FilterOptions filters) {
    ConfigNode root = ConfigNode.read(file);
    ConfigFile config = new ConfigFile();
    Map<String, ConfigNode> sections = root.fields(SECTIONS);
    ConfigNode listener = sections.get("listener");
    if (listener != null) {
      config.listener(listener, builder);
    }
    options(sections.get("timeouts"), TIMEOUTS, builder);
    options(sections.get("limits"), LIMITS, builder);
    if (sections.get("limits") != null) {
      config.spoolDirectory = sections.get("limits").entries().get("requestSpoolDirectory");
    }
    ConfigNode cache = sections.get("cache");
    if (cache != null) {
      config.cache = cache(cache);
      builder.cache(config.cache);
    }
    ConfigNode ca = sections.get("upstreamCa");
    if (ca != null) {
      String path = ca.directory().resolve(ca.text()).toString();
      config.upstreamCa = ca.call(() -> PemFiles.trustAnchors("upstreamCa", path));
      builder.upstreamTls(UpstreamTls.trusting(config.upstreamCa));
    }
    ConfigNode filterList = sections.get("filters");
    if (filterList != null) {
      filters(filterList, filters);
    }
    config.reverse = ConfigRoutes.read(sections.get("pools"), sections.get("routes"),
        sections.get("upstream"), builder);
    config.cacheAsked = firstCacheAsked(sections.get("routes"));
    return config;
  }

  /** The file's {@code limits.requestSpoolDirectory}, for errors naming its line; null without one. */
  ConfigNode spoolDirectory() {
    return spoolDirectory;
  }

  /** The first route's {@code cache: true}, or null. */
  private static ConfigNode firstCacheAsked(ConfigNode routes) {
    if (routes == null) {
      return null;
    }
    for (ConfigNode route : routes.items(ConfigRoutes.ROUTE_ITEM)) {
      ConfigNode cache = route.entries().get("cache");
      if (cache != null && cache.bool()) {
        return cache;
      }
    }
    return null;
  }

  /**
   * Refuses a route's {@code cache: true} when the proxy ends up with no cache (neither a
   * {@code cache} section nor {@code -m}): it would silently do nothing.
   *
   * @throws ConfigFileException naming the line
   */
  void checkCacheAsked(ProxyConfig proxy) {
    if (cacheAsked != null && proxy.cache().isEmpty()) {
      throw cacheAsked.error("asks for the cache, but none is configured: add a cache section "
          + "(cache: {sizeMb: 64}) or -m");
    }
  }

  /**
   * The file's {@code upstreamCa}, or null: the upstream TLS flags build on it (a client
   * certificate keeps its trust) rather than replacing it with the system's.
   */
  java.nio.file.Path upstreamCa() {
    return upstreamCa;
  }

  /** The file's {@code cache} section, or null: {@code -m} changes only its size. */
  CacheSpec cache() {
    return cache;
  }

  /** The file's {@code listener.concurrency}, or null. */
  String concurrency() {
    return concurrency;
  }

  /** Where the file gives {@code listener.concurrency}, for errors about it; null without it. */
  ConfigNode concurrencyNode() {
    return concurrencyNode;
  }

  /** The file's {@code listener.threads}, or null. */
  Integer threads() {
    return threads;
  }

  /** Where the file gives {@code listener.threads}, for errors about it; null without it. */
  ConfigNode threadsNode() {
    return threadsNode;
  }

  /** The file's {@code listener.queue}, or null. */
  Integer queue() {
    return queue;
  }

  /** Where the file gives {@code listener.queue}, for errors about it; null without it. */
  ConfigNode queueNode() {
    return queueNode;
  }

  /** The file's {@code listener.maxThreads}, or null. */
  Integer maxThreads() {
    return maxThreads;
  }

  /** Where the file gives {@code listener.maxThreads}, for errors about it; null without it. */
  ConfigNode maxThreadsNode() {
    return maxThreadsNode;
  }

  /** True if the file has routes or a catch-all upstream. */
  boolean reverse() {
    return reverse;
  }

  private void listener(ConfigNode node, ProxyServer.Builder builder) {
    for (Map.Entry<String, ConfigNode> field : node.fields(LISTENER).entrySet()) {
      ConfigNode value = field.getValue();
      switch (field.getKey()) {
        case "port" -> value.call(() -> builder.port(value.integer()));
        case "bind" -> value.call(() -> {
          ListenAddresses.requireLocal("bind", value.text());
          return builder.bindAddress(value.text());
        });
        case "concurrency" -> {
          concurrency = value.text();
          concurrencyNode = value;
          if (!MODELS.contains(concurrency)) {
            throw value.error("must be auto, virtual, pool (alias epoll) or thread (was " + concurrency + ")");
          }
        }
        case "threads" -> {
          threads = value.integer();
          threadsNode = value;
          value.call(() -> Concurrency.boundedPool(threads, 0)); // the range check, now
        }
        case "queue" -> {
          queue = value.integer();
          queueNode = value;
          if (queue < 0) {
            throw value.error("must not be negative (was " + queue + ")"); // the range check, now
          }
        }
        case "eventLoop" -> value.call(() -> builder.eventLoop(value.bool()));
        case "maxThreads" -> {
          maxThreads = value.integer();
          maxThreadsNode = value;
          if (maxThreads < 1) {
            throw value.error("must be at least 1 (was " + maxThreads + ")"); // the range check, now
          }
        }
      }
    }
  }

  private static void options(ConfigNode node, Map<String, BiConsumer<ProxyServer.Builder, ConfigNode>> options,
      ProxyServer.Builder builder) {
    if (node == null) {
      return;
    }
    for (Map.Entry<String, ConfigNode> field : node.fields(List.copyOf(options.keySet())).entrySet()) {
      ConfigNode value = field.getValue();
      value.call(() -> {
        options.get(field.getKey()).accept(builder, value);
        return builder;
      });
    }
  }

  private static CacheSpec cache(ConfigNode node) {
    Map<String, ConfigNode> fields = node.fields(CACHE);
    if (fields.containsKey("maxSizeBytes") && fields.containsKey("sizeMb")) {
      throw fields.get("sizeMb").error("and maxSizeBytes exclude each other; give one");
    }
    CacheSpec spec = CacheSpec.inMemory();
    for (Map.Entry<String, ConfigNode> field : fields.entrySet()) {
      ConfigNode value = field.getValue();
      CacheSpec current = spec;
      spec = value.call(() -> switch (field.getKey()) {
        case "maxSizeBytes" -> current.maxSizeBytes(value.longValue());
        case "sizeMb" -> current.maxSizeBytes(megabytes(value));
        case "maxEntryBytes" -> current.maxEntryBytes(value.longValue());
        case "purgeFrom" -> current.purgeFrom(purgeFrom(value));
        case "targetedField" -> current.targetedField(value.text());
        case "hideTargetedField" -> value.bool() ? current.hideTargetedField() : current;
        default -> current.storeSetCookie(value.bool());
      });
    }
    return spec;
  }

  /** {@code purgeFrom}'s address blocks: a list (empty, or {@code none}: PURGE is off). */
  private static String[] purgeFrom(ConfigNode value) {
    if (!value.isList() && value.text().equals("none")) {
      return new String[0];
    }
    return value.list().stream().map(ConfigNode::text).toArray(String[]::new);
  }

  /**
   * {@code sizeMb} in bytes, refused in the unit it is written in past the cache's 1 TiB (probe
   * v29: the message counted bytes; shifted unchecked, 2^44 + 1 became 1 MiB).
   */
  private static long megabytes(ConfigNode value) {
    long megabytes = value.longValue();
    if (megabytes < 1 || megabytes > CliOptions.MAX_CACHE_MB) {
      throw value.error("must be between 1 and " + CliOptions.MAX_CACHE_MB + " (1 TiB; was " + megabytes + ")");
    }
    return megabytes << 20;
  }

  /** Each item is one filter flag without its dashes: {@code - deny-host: "*.ads.example"}. */
  private static void filters(ConfigNode node, FilterOptions filters) {
    List<String> names = new ArrayList<>();
    FilterOptions.FLAGS.forEach(flag -> names.add(flag.substring(2)));
    FilterOptions.SWITCHES.forEach(flag -> names.add(flag.substring(2)));
    names.sort(null);
    for (ConfigNode item : node.items("- deny-host: \"*.ads.example\"")) {
      Map<String, ConfigNode> fields = item.fields(names);
      if (fields.size() != 1) {
        throw item.error("must be one filter per item, like - deny-host: \"*.ads.example\"");
      }
      Map.Entry<String, ConfigNode> filter = fields.entrySet().iterator().next();
      String flag = "--" + filter.getKey();
      ConfigNode value = filter.getValue();
      if (FilterOptions.SWITCHES.contains(flag)) {
        if (value.bool()) {
          filters.add(flag);
        }
        continue;
      }
      for (ConfigNode one : value.list()) {
        one.call(() -> {
          filters.add(flag, one.text());
          return filters;
        });
      }
    }
  }
}
