package dev.ferry.proxy.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Saves what a record-if-missing run added to its HAR file, CONNECTs and protocol switches
 * (101, a WebSocket's upgrade) aside: what goes through a blind tunnel or an upgraded
 * connection is not recorded, and an intercepted tunnel's requests are saved on their own. Answers the
 * proxy made itself (a 502 for a refused connect, a 504, a limit's 4xx), exchanges without a
 * response and those a fault changed (a status, a cut body; latency and bandwidth only slow the
 * origin's answer) are not what the origin says, so they are left out unless
 * {@code includeFailures} (which keeps the proxy-made answers that have a status). A response
 * body cut at {@code maxBodyBytes} is left out whatever {@code includeFailures} says: replay
 * would answer it 502 in every later run. The run reports what it left out, and why.
 *
 * <p>Concurrent tests each get a proxy of their own, and may all record into one file, also from
 * several JVMs (surefire forks): each save reads the file, adds its exchanges and writes it back
 * while it holds a lock per file in this JVM and an exclusive lock on the sibling file
 * {@code <har>.lock} across JVMs, so no test's exchanges overwrite another's. The lock file is
 * left in place: deleting it would let a waiting JVM lock a file that another has replaced.
 * Reading needs no lock, since {@link Recording#writeHar(Path)} replaces the file as a whole.
 */
final class RecordIfMissing {
  private static final Logger log = LoggerFactory.getLogger(RecordingProxy.class);
  private static final ConcurrentHashMap<Path, Object> FILE_LOCKS = new ConcurrentHashMap<>();

  private final Path file;
  private final boolean includeFailures;

  RecordIfMissing(Path file, boolean includeFailures) {
    this.file = file;
    this.includeFailures = includeFailures;
  }

  Path file() {
    return file;
  }

  /** The exchanges the file holds now (none if it does not exist yet). */
  List<RecordedExchange> load() {
    return Files.exists(file) ? Recording.fromHar(file).exchanges() : List.of();
  }

  /**
   * Adds the savable new exchanges of {@code recording}, if there are any, to those the file
   * holds now; returns the new exchanges that were not saved.
   */
  List<RecordedExchange> save(Recording recording) {
    List<RecordedExchange> saved = new ArrayList<>();
    List<RecordedExchange> left = new ArrayList<>();
    // A tunnel's CONNECT and a protocol switch (a WebSocket's 101) are never saved: replay cannot
    // stand in for what went through them, and a saved 101 failed every later run (probe t27).
    for (RecordedExchange e : recording.select(e -> !e.replayed() && !e.unmatched()
        && !e.request().method().equals("CONNECT") && e.response().status() != 101)) {
      (savable(e) ? saved : left).add(e);
    }
    if (!saved.isEmpty()) {
      // A JVM holds a file lock for the whole JVM, and a second lock() from another of its
      // threads throws: the monitor keeps this JVM's savers to one at a time first.
      synchronized (lock()) {
        try (FileChannel channel = openLockFile(); FileLock held = channel.lock()) {
          List<RecordedExchange> all = new ArrayList<>(load());
          all.addAll(saved);
          Recording.of(all).writeHar(file);
        } catch (IOException e) {
          throw new UncheckedIOException("could not lock HAR file " + file + " to save into it: "
              + e.getMessage(), e);
        }
      }
    }
    if (!left.isEmpty() || recording.dropped() > 0) {
      log.warn(report(left, recording.dropped()));
    }
    return List.copyOf(left);
  }

  /** The sibling lock file of the HAR; two forks saving at once used to lose entries (probe t24). */
  private FileChannel openLockFile() throws IOException {
    Path har = file.toAbsolutePath();
    Files.createDirectories(har.getParent());
    return FileChannel.open(har.resolveSibling(har.getFileName() + ".lock"),
        StandardOpenOption.CREATE, StandardOpenOption.WRITE);
  }

  private Object lock() {
    return FILE_LOCKS.computeIfAbsent(file.toAbsolutePath().normalize(), f -> new Object());
  }

  private boolean savable(RecordedExchange e) {
    return whyNotSavable(e) == null;
  }

  /** Why {@code e} is left out of the file, or null if it is saved. */
  private String whyNotSavable(RecordedExchange e) {
    if (e.response().status() == 0) {
      return "the origin did not answer";
    }
    if (e.faultChangedResponse()) {
      return "a fault changed the answer";
    }
    if (e.response().body().truncated()) {
      RecordedBody body = e.response().body();
      return "response body cut at maxBodyBytes, " + body.capturedSize() + " of " + body.size()
          + " bytes kept: raise maxBodyBytes";
    }
    if ((e.proxyMade() || e.failure().isPresent()) && !includeFailures) {
      // The exchange's own line names the failure.
      return e.proxyMade() ? "proxy-made" : "the origin's answer broke off";
    }
    return null;
  }

  /** Names every request that could not be recorded, and why. */
  String report(List<RecordedExchange> left, long dropped) {
    StringBuilder text = new StringBuilder("Ferry recordIfMissing(").append(file).append("): ");
    if (!left.isEmpty()) {
      text.append(left.size()).append(left.size() == 1 ? " request was" : " requests were")
          .append(" not recorded:");
      for (RecordedExchange e : left) {
        text.append("\n  ").append(e).append(": ").append(whyNotSavable(e));
      }
    }
    if (dropped > 0) {
      text.append(left.isEmpty() ? "" : "\n").append(dropped)
          .append(" exchanges were dropped from the recording before they could be saved;"
              + " raise maxRecordingBytes or maxExchanges");
    }
    return text.toString();
  }
}
