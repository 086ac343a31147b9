package dev.ferry.proxy.engine.io;

import dev.ferry.proxy.engine.http1.LogValues;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where one proxy receives request bodies on disk ({@link BodySpool}): the directory, and the
 * disk space all of them may take together.
 */
public final class SpoolDirectory {
  private static final Logger log = LoggerFactory.getLogger(SpoolDirectory.class);

  /** Null: {@code java.io.tmpdir}, read at each use. */
  private final Path directory;
  private final ByteBudget budget;
  private final AtomicBoolean warned = new AtomicBoolean();

  /**
   * @param directory null for {@code java.io.tmpdir}
   * @param limitBytes the most disk space the spools may take together
   */
  public SpoolDirectory(Path directory, long limitBytes) {
    this.directory = directory;
    this.budget = new ByteBudget(limitBytes);
  }

  /**
   * A new spool, or null if its file cannot be created: the body then streams. The first failure
   * is a warning (the directory is gone, read-only or full: an operator's fix), later ones are
   * logged at debug, so that a flood of uploads cannot flood the log.
   */
  public BodySpool open() {
    Path where = directory != null ? directory : Path.of(System.getProperty("java.io.tmpdir"));
    try {
      return BodySpool.create(where, budget);
    } catch (IOException | RuntimeException e) {
      if (warned.compareAndSet(false, true)) {
        log.warn("request_spool_failed dir={} error={} (request bodies stream instead; later failures at debug)",
            where, LogValues.quoted(e.toString()));
      } else {
        log.debug("request_spool_failed dir={} error={}", where, LogValues.quoted(e.toString()));
      }
      return null;
    }
  }

  /**
   * Writing a spool failed (the disk filled up): logged as {@link #open} failures are, a warning
   * the first time and at debug after, so that a flood of uploads cannot flood the log.
   */
  public void writeFailed(SpoolWriteException e) {
    if (warned.compareAndSet(false, true)) {
      log.warn("request_spool_failed error={} (answered 503; later failures at debug)",
          LogValues.quoted(e.getMessage()));
    } else {
      log.debug("request_spool_failed error={}", LogValues.quoted(e.getMessage()));
    }
  }

  /** The disk space the spools take now, in bytes. */
  public long taken() {
    return budget.taken();
  }
}
