package dev.ferry.samples;

import dev.ferry.proxy.ProxyConfig;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Route;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies a changed config file to a running proxy: parses it again (with the same command-line
 * flags on top) and hands the result to {@link ProxyServer#reconfigure}. A file that does not
 * parse, or that the proxy refuses (it changes an option other than pools, routes and filters),
 * is logged and changes nothing: the running configuration stays.
 */
final class ConfigReloader {
  private static final Logger log = LoggerFactory.getLogger(ConfigReloader.class);

  private final ProxyServer proxy;
  private final Path file;
  private final Supplier<ProxyServer.Builder> parse;
  private final ReentrantLock lock = new ReentrantLock();
  private final AtomicInteger applied = new AtomicInteger();
  private final AtomicInteger failed = new AtomicInteger();
  private byte[] lastRead;

  /**
   * A reloader of {@code file} for {@code proxy}, which was started from it.
   *
   * @param parsed the file's bytes as read for the parse the proxy started from, or null: the
   *     first change is judged against them, so that an edit made while the proxy started (after
   *     that parse, before the watcher) is applied, not taken for the file as it was
   * @param parse parses the file and the flags onto a new builder, as at startup
   */
  ConfigReloader(ProxyServer proxy, Path file, byte[] parsed, Supplier<ProxyServer.Builder> parse) {
    this.proxy = proxy;
    this.file = file;
    this.parse = parse;
    this.lastRead = parsed;
  }

  /**
   * Starts watching {@code file} (and SIGHUP, where the JVM supports it) for {@code proxy}.
   * Returns the watcher, to close; if the directory cannot be watched, that is logged and
   * SIGHUP still works.
   */
  static ConfigWatcher watch(ProxyServer proxy, Path file, byte[] parsed, Supplier<ProxyServer.Builder> parse) {
    ConfigReloader reloader = new ConfigReloader(proxy, file, parsed, parse);
    Signals.on("HUP", () -> reloader.reload(true));
    ConfigWatcher watcher = null;
    try {
      watcher = ConfigWatcher.start(file, ConfigWatcher.DEBOUNCE, () -> reloader.reload(false));
    } catch (IOException e) {
      log.warn("config_watch_failed file={} error={}", CliLogger.quoted(file), CliLogger.quoted(e));
    }
    // An edit made before the watcher began sent it no event: compare once now.
    reloader.reload(false);
    return watcher;
  }

  /**
   * Re-reads the file and reconfigures the proxy. Unless {@code force}, a file whose bytes did
   * not change since the last read is left alone (editors and atomic renames write twice).
   * Returns true if the proxy took the new configuration.
   */
  boolean reload(boolean force) {
    lock.lock();
    try {
      byte[] bytes = read();
      if (!force && bytes != null && Arrays.equals(bytes, lastRead)) {
        return false;
      }
      lastRead = bytes;
      try {
        ProxyServer.Builder builder = parse.get();
        ProxyConfig config = builder.buildConfig();
        proxy.reconfigure(config);
        applied.incrementAndGet();
        log.info("config_reloaded file={} routes={} pools={}", CliLogger.quoted(file), routes(config),
            pools(config));
        return true;
      } catch (ConfigFileException e) {
        failed(e.line(), e.detail());
      } catch (IllegalArgumentException | IllegalStateException e) {
        failed(0, e.getMessage());
      }
      return false;
    } finally {
      lock.unlock();
    }
  }

  /** Reloads applied so far. */
  int applied() {
    return applied.get();
  }

  /** Reloads refused so far. */
  int failed() {
    return failed.get();
  }

  private void failed(int line, String error) {
    failed.incrementAndGet();
    log.warn("config_reload_failed file={} line={} error={}", CliLogger.quoted(file), line,
        CliLogger.quoted(error));
  }

  private byte[] read() {
    return ConfigNode.bytes(file);
  }

  private static int routes(ProxyConfig config) {
    return config.routes().size() + (config.upstream().isPresent() ? 1 : 0);
  }

  private static int pools(ProxyConfig config) {
    Set<String> names = new TreeSet<>();
    for (Route route : config.routes()) {
      names.add(route.upstream().name());
    }
    config.upstream().ifPresent(pool -> names.add(pool.name()));
    return names.size();
  }
}
