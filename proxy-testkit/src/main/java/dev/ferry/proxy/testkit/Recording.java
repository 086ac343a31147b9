package dev.ferry.proxy.testkit;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * The exchanges a proxy has recorded, in the order they completed. Thread-safe: the proxy adds
 * to it from its connection threads while a test reads it.
 *
 * <pre>{@code
 * List<RecordedExchange> two = proxy.recording().awaitExchanges(2, Duration.ofSeconds(5));
 * List<RecordedExchange> posts = proxy.recording().matching(e -> e.method("POST"));
 * proxy.recording().writeHar(Path.of("target/traffic.har"));
 * }</pre>
 *
 * <p>An exchange is recorded when it completes, which can be just after the client has read its
 * response: wait with {@link #awaitExchanges} before asserting on what a client just did.
 *
 * <p>Memory is bounded: each body is captured up to a cap, and once {@code maxExchanges} are
 * held the oldest are dropped (counted by {@link #dropped()}).
 */
public final class Recording {
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final ArrayDeque<RecordedExchange> exchanges = new ArrayDeque<>();
  private final int maxExchanges;
  private long dropped;

  Recording(int maxExchanges) {
    this.maxExchanges = maxExchanges;
  }

  /** Returns an empty recording that holds up to 100,000 exchanges. */
  public static Recording create() {
    return new Recording(100_000);
  }

  /** Returns a recording holding these exchanges, for replay. */
  public static Recording of(Collection<RecordedExchange> exchanges) {
    Recording recording = create();
    exchanges.forEach(recording::add);
    return recording;
  }

  /**
   * Reads a HAR 1.2 file, such as one saved by Chrome DevTools or by {@link #writeHar(Path)}.
   *
   * @throws UncheckedIOException if the file cannot be read or is not a HAR log
   */
  public static Recording fromHar(Path har) {
    try (Reader reader = Files.newBufferedReader(har, StandardCharsets.UTF_8)) {
      return fromHar(reader);
    } catch (IOException e) {
      throw new UncheckedIOException("could not read HAR file " + har + ": " + e.getMessage(), e);
    }
  }

  /**
   * Reads a HAR 1.2 document.
   *
   * @throws UncheckedIOException if it cannot be read or is not a HAR log
   */
  public static Recording fromHar(Reader har) {
    try {
      return of(HarReader.read(har));
    } catch (IOException e) {
      throw new UncheckedIOException("could not read HAR: " + e.getMessage(), e);
    }
  }

  void add(RecordedExchange exchange) {
    lock.lock();
    try {
      exchanges.addLast(exchange);
      if (exchanges.size() > maxExchanges) {
        exchanges.removeFirst();
        dropped++;
      }
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** A snapshot of the recorded exchanges, oldest first. */
  public List<RecordedExchange> exchanges() {
    lock.lock();
    try {
      return List.copyOf(exchanges);
    } finally {
      lock.unlock();
    }
  }

  /** The recorded exchanges that match, oldest first. */
  public List<RecordedExchange> exchanges(Predicate<? super RecordedExchange> filter) {
    Objects.requireNonNull(filter, "filter");
    List<RecordedExchange> matching = new ArrayList<>();
    for (RecordedExchange exchange : exchanges()) {
      if (filter.test(exchange)) {
        matching.add(exchange);
      }
    }
    return matching;
  }

  /**
   * The recorded exchanges that match a readable matcher, such as
   * {@code exchanges(e -> e.method("POST").path("/orders"))}.
   */
  public List<RecordedExchange> matching(UnaryOperator<ExchangeMatcher> matcher) {
    return exchanges(matcher.apply(ExchangeMatcher.any()));
  }

  /** The number of exchanges held. */
  public int size() {
    lock.lock();
    try {
      return exchanges.size();
    } finally {
      lock.unlock();
    }
  }

  /** How many of the oldest exchanges were dropped because more than the maximum were held. */
  public long dropped() {
    lock.lock();
    try {
      return dropped;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Waits until at least {@code count} exchanges have been recorded and returns them. It blocks
   * on a condition the proxy signals; it never polls or sleeps.
   *
   * @throws AssertionError if fewer were recorded within the timeout; the message lists them
   */
  public List<RecordedExchange> awaitExchanges(int count, Duration timeout) {
    return await(e -> true, count, timeout, count + " exchanges");
  }

  /**
   * Waits until an exchange that matches has been recorded and returns the first such.
   *
   * @throws AssertionError if none was recorded within the timeout; the message lists the others
   */
  public RecordedExchange awaitExchange(Predicate<? super RecordedExchange> filter,
      Duration timeout) {
    return await(filter, 1, timeout, "an exchange matching " + filter).get(0);
  }

  private List<RecordedExchange> await(Predicate<? super RecordedExchange> filter, int count,
      Duration timeout, String what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    lock.lock();
    try {
      while (true) {
        List<RecordedExchange> found = new ArrayList<>();
        for (RecordedExchange exchange : exchanges) {
          if (filter.test(exchange)) {
            found.add(exchange);
          }
        }
        if (found.size() >= count) {
          return found;
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new AssertionError("expected " + what + " within " + timeout.toMillis()
              + " ms but " + describe(List.copyOf(exchanges)));
        }
        changed.await(left, TimeUnit.NANOSECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while waiting for " + what, e);
    } finally {
      lock.unlock();
    }
  }

  /** The first recorded exchange that matches, if any. */
  public Optional<RecordedExchange> first(Predicate<? super RecordedExchange> filter) {
    return exchanges(filter).stream().findFirst();
  }

  /** Forgets every recorded exchange. */
  public void clear() {
    lock.lock();
    try {
      exchanges.clear();
      dropped = 0;
    } finally {
      lock.unlock();
    }
  }

  /** Returns the recording as a HAR 1.2 JSON document. */
  public String toHar() {
    return HarWriter.write(exchanges());
  }

  /** Writes the recording as HAR 1.2 to a writer, which is flushed but not closed. */
  public void writeHar(Writer writer) throws IOException {
    HarWriter.write(exchanges(), writer);
  }

  /** Writes the recording as a HAR 1.2 file, creating parent directories as needed. */
  public void writeHar(Path path) throws IOException {
    Path parent = path.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    try (Writer writer = Files.newBufferedWriter(path, StandardCharsets.UTF_8)) {
      writeHar(writer);
    }
  }

  /** Describes the exchanges, one per line, as assertion messages do. */
  static String describe(List<RecordedExchange> exchanges) {
    if (exchanges.isEmpty()) {
      return "no exchanges were recorded";
    }
    StringBuilder text = new StringBuilder()
        .append(exchanges.size()).append(exchanges.size() == 1 ? " exchange was" : " exchanges were")
        .append(" recorded:");
    for (RecordedExchange exchange : exchanges) {
      text.append("\n  ").append(exchange);
    }
    return text.toString();
  }

  /** Lists the recorded exchanges, one per line. */
  @Override
  public String toString() {
    return describe(exchanges());
  }
}
