package dev.ferry.proxy.engine.tls;

import dev.ferry.proxy.ServerTls;
import dev.ferry.proxy.engine.http1.LogValues;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The listener's current {@link ServerTlsContext}, rebuilt when its files change or on
 * {@link #reload()}.
 *
 * <p>Change detection: {@link #current()} compares a digest of each file's content with those
 * last loaded, at most once per check interval, on the accepting thread. No
 * WatchService: it needs a thread of its own, misses changes on some network file systems, and
 * sees a renamed-over file (how certbot and Kubernetes secrets update) as a directory event on
 * another path. A file changed in two steps may be caught half-written: the build then fails,
 * the failure is logged once for those file states, the previous context stays in use, and the
 * next change is tried again.
 *
 * <p>Concurrency: readers take the context from an {@link AtomicReference}; one thread at a time
 * rebuilds (a {@code tryLock}: others keep using the old context rather than wait on file I/O).
 */
public final class ReloadingServerTls {
  private static final Logger log = LoggerFactory.getLogger(ReloadingServerTls.class);
  private static final Duration DEFAULT_CHECK_INTERVAL = Duration.ofSeconds(1);

  private final ServerTls tls;
  private final List<Path> files;
  private final long checkIntervalNanos;
  private final AtomicReference<ServerTlsContext> current = new AtomicReference<>();
  private final AtomicReference<List<String>> attemptedStamps = new AtomicReference<>();
  private final AtomicLong nextCheck = new AtomicLong();
  private final ReentrantLock rebuilding = new ReentrantLock();

  private ReloadingServerTls(ServerTls tls, Duration checkInterval) {
    this.tls = tls;
    this.files = files(tls);
    this.checkIntervalNanos = checkInterval.toNanos();
    List<String> stamps = stamps();
    current.set(ServerTlsContext.create(tls));
    attemptedStamps.set(stamps);
    nextCheck.set(System.nanoTime() + checkIntervalNanos);
  }

  /**
   * Loads {@code tls} now, checking its files for changes at most once a second afterwards.
   *
   * @throws IllegalArgumentException naming the file if a certificate, key or keystore is unusable
   * @throws java.io.UncheckedIOException if a file cannot be read
   */
  public static ReloadingServerTls create(ServerTls tls) {
    return create(tls, DEFAULT_CHECK_INTERVAL);
  }

  /** As {@link #create(ServerTls)}, checking files at most once per {@code checkInterval}. */
  public static ReloadingServerTls create(ServerTls tls, Duration checkInterval) {
    Objects.requireNonNull(tls, "tls");
    return new ReloadingServerTls(tls, checkInterval);
  }

  /** The context to use for the next connection; reloads first if the files changed. */
  public ServerTlsContext current() {
    long now = System.nanoTime();
    long due = nextCheck.get();
    if (!files.isEmpty() && now - due >= 0 && nextCheck.compareAndSet(due, now + checkIntervalNanos)) {
      List<String> stamps = stamps();
      if (!stamps.equals(attemptedStamps.get()) && rebuilding.tryLock()) {
        try {
          attemptedStamps.set(stamps);
          rebuild("file_changed");
        } catch (RuntimeException e) {
          log.warn("tls_reload_failed trigger=file_changed reason={} keeping=previous",
              LogValues.quoted(e.getMessage()));
        } finally {
          rebuilding.unlock();
        }
      }
    }
    return current.get();
  }

  /**
   * Rebuilds the context from the files now, whether or not they changed.
   *
   * @throws IllegalArgumentException naming the file if a certificate, key or keystore is unusable;
   *     the previous context then stays in use
   * @throws java.io.UncheckedIOException if a file cannot be read; likewise
   */
  public void reload() {
    rebuilding.lock();
    try {
      attemptedStamps.set(stamps());
      rebuild("api");
    } finally {
      rebuilding.unlock();
    }
  }

  /** {@link ServerTlsContext#accept} on the {@link #current()} context. */
  public EngineSocket accept(Socket plain, byte[] consumed) throws IOException {
    return current().accept(plain, consumed);
  }

  /** The files watched for changes (none for an in-memory keystore). */
  public List<Path> files() {
    return files;
  }

  private void rebuild(String trigger) {
    current.set(ServerTlsContext.create(tls));
    log.info("tls_reloaded trigger={} files={}", trigger, files);
  }

  /**
   * What the files hold, as a digest each: a renewed certificate copied over the old one with
   * its time kept ({@code cp -p}, {@code rsync -a}, {@code tar x}) has the same modification time
   * and, same key size, the same length. The files are a few KiB, read once per check interval.
   */
  private List<String> stamps() {
    List<String> stamps = new ArrayList<>();
    for (Path file : files) {
      try {
        MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
        stamps.add(HexFormat.of().formatHex(sha256.digest(Files.readAllBytes(file))));
      } catch (IOException e) {
        stamps.add("unreadable");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("every JDK has SHA-256", e);
      }
    }
    return stamps;
  }

  private static List<Path> files(ServerTls tls) {
    List<Path> files = new ArrayList<>(tls.certificateChainFiles());
    files.addAll(tls.privateKeyFiles());
    tls.keyStoreFile().ifPresent(files::add);
    tls.clientCaFile().ifPresent(files::add);
    return List.copyOf(files);
  }
}
