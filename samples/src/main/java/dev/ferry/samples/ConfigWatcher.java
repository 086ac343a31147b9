package dev.ferry.samples;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches a file's directory (a {@link WatchService} watches directories, not files) on a
 * daemon thread named {@code ferry-config-watch}, and runs an action once a burst of changes to
 * the file has settled (see {@link #awaitQuiet}): editors write twice (truncate then write, or a temporary file renamed
 * over the old one), and one reload per save is enough. When the file is a symbolic link (a
 * Kubernetes ConfigMap swaps a {@code ..data} link beside it), any change in the directory
 * counts, and the directory of the file it points to is watched too; the action itself skips a
 * file whose content did not change.
 */
final class ConfigWatcher implements Closeable {
  /** How long the directory must stay quiet after a change before the action runs. */
  static final Duration DEBOUNCE = Duration.ofMillis(300);

  private static final Logger log = LoggerFactory.getLogger(ConfigWatcher.class);

  private final Path file;
  private final WatchService watch;
  private final Duration quiet;
  private final Runnable onChange;
  private final Thread thread;

  private ConfigWatcher(Path file, WatchService watch, Duration quiet, Runnable onChange) {
    this.file = file;
    this.watch = watch;
    this.quiet = quiet;
    this.onChange = onChange;
    this.thread = new Thread(this::run, "ferry-config-watch");
    thread.setDaemon(true);
  }

  /**
   * Starts watching {@code file}; {@code onChange} runs on the watch thread after each burst of
   * changes, once {@code quiet} has passed without another.
   *
   * @throws IOException if the directory cannot be watched
   */
  static ConfigWatcher start(Path file, Duration quiet, Runnable onChange) throws IOException {
    Path absolute = file.toAbsolutePath();
    WatchService watch = absolute.getFileSystem().newWatchService();
    try {
      register(absolute.getParent(), watch);
      if (Files.isSymbolicLink(absolute)) {
        // A link to a file elsewhere (stow, /etc pointing into /opt): that file is edited in its
        // own directory, where the link's directory sees nothing.
        Path target = absolute.toRealPath().getParent();
        if (!target.equals(absolute.getParent().toRealPath())) {
          register(target, watch);
        }
      }
    } catch (IOException | RuntimeException e) {
      watch.close();
      throw e;
    }
    ConfigWatcher watcher = new ConfigWatcher(absolute, watch, quiet, onChange);
    watcher.thread.start();
    return watcher;
  }

  private static void register(Path directory, WatchService watch) throws IOException {
    directory.register(watch, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
        StandardWatchEventKinds.ENTRY_DELETE);
  }

  private void run() {
    try {
      while (true) {
        if (!concernsFile(watch.take())) {
          continue;
        }
        awaitQuiet();
        try {
          onChange.run();
        } catch (RuntimeException e) {
          log.error("config_reload_crashed file={}", CliLogger.quoted(file), e);
        }
      }
    } catch (InterruptedException | ClosedWatchServiceException e) {
      log.debug("config_watch_stopped file={}", CliLogger.quoted(file));
    }
  }

  /**
   * Waits until the file has had no change for {@code quiet}, or for ten times that since the
   * burst began. Changes to other files in the directory (a log written beside the config, say)
   * do not extend the wait: they would put off a reload for as long as they go on.
   */
  private void awaitQuiet() throws InterruptedException {
    long now = System.nanoTime();
    long latest = now + 10 * quiet.toNanos();
    long until = now + quiet.toNanos();
    for (long left = until - now; left > 0; left = Math.min(until, latest) - System.nanoTime()) {
      WatchKey next = watch.poll(left, TimeUnit.NANOSECONDS);
      if (next == null) {
        return;
      }
      if (concernsFile(next)) {
        until = System.nanoTime() + quiet.toNanos();
      }
    }
  }

  /** Drains and resets the key; true if an event may concern the file. */
  private boolean concernsFile(WatchKey key) {
    boolean concerns = false;
    for (WatchEvent<?> event : key.pollEvents()) {
      concerns |= event.kind() == StandardWatchEventKinds.OVERFLOW
          || file.getFileName().equals(event.context()) || Files.isSymbolicLink(file);
    }
    key.reset();
    return concerns;
  }

  /** Stops watching and waits briefly for the thread to end. */
  @Override
  public void close() throws IOException {
    watch.close();
    try {
      thread.join(TimeUnit.SECONDS.toMillis(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
