package dev.ferry.proxy.testkit;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * The exchanges a proxy has recorded, in the order they completed. Thread-safe: the proxy adds
 * to it from its connection threads while a test reads it.
 *
 * <pre>{@code
 * RecordedExchange post = proxy.recording()
 *     .awaitExchange(e -> e.method("POST").path("/orders"), Duration.ofSeconds(5));
 * List<RecordedExchange> gets = proxy.recording().exchanges(e -> e.method("GET"));
 * proxy.recording().writeHar(Path.of("target/traffic.har"));
 * }</pre>
 *
 * <p>An exchange is recorded when it completes, which can be just after the client has read its
 * response: wait with {@link #awaitExchange}, or assert with
 * {@code FerryAssertions.assertThat(recording).eventually()}, which waits.
 *
 * <p><b>Bounds.</b> A proxy's recording never grows without limit, and never loses data
 * silently: each body keeps at most {@code maxBodyBytes} (1 MiB by default; longer ones are
 * {@linkplain RecordedBody#truncated() truncated}); all kept bodies together stay within
 * {@code maxRecordingBytes} (64 MiB by default), reserved before the bytes are allocated; at most
 * {@code maxExchanges} (100,000 by default) are held. Past a bound the oldest exchanges are
 * dropped ({@link #dropped()}) or, with {@link RecordingOverflow#TRUNCATE_BODIES}, new bodies
 * are truncated ({@link #truncatedBodies()}). Set the bounds on
 * {@link RecordingProxy.Builder} or {@link FerryProxyExtension}. While exchanges are dropped, the
 * {@link RecordingAssert} checks a dropped one could decide otherwise fail, naming the bound.
 *
 * <p>The recording a test receives from {@link FerryProxyExtension} is that test's own view of
 * the proxy's traffic: it holds the exchanges that started while the test ran.
 *
 * <p>Size: over 600 lines because it is public API, each method with its javadoc, and it holds
 * both a proxy's exchanges and the tests' views of them, whose drop counts and traffic judges are
 * kept under the one lock that adds and evicts exchanges.
 */
public final class Recording {
  /**
   * The most exchanges a failure message lists; the rest are counted. Thousands made messages of
   * megabytes, which buried the line that mattered.
   */
  static final int MAX_LISTED = 100;

  private final Recording root;
  // Root state; a view uses its root's.
  private final ReentrantLock lock;
  private final Condition changed;
  private final ArrayDeque<RecordedExchange> exchanges;
  private final int maxExchanges;
  private final ByteBudget budget;
  private final RecordingOverflow overflow;
  private volatile LongSupplier orders = () -> 0;
  private volatile IntSupplier inFlight = () -> 0;
  private long truncatedBodies;
  /** The open views, which count their own drops and judge their own traffic; guarded by lock. */
  private final Set<Recording> views;
  // Per recording (root or view), guarded by lock: the drops of exchanges it held, and why.
  private long dropped;
  private long droppedForBytes;
  private TrafficJudge judge;
  // View state: exchanges whose start order is in (from, to], less those cleared from the view.
  private volatile long from;
  private volatile long to = Long.MAX_VALUE;
  private final Set<Long> cleared = ConcurrentHashMap.newKeySet();

  Recording(int maxExchanges, long maxRecordingBytes, RecordingOverflow overflow) {
    this.root = this;
    this.lock = new ReentrantLock();
    this.changed = lock.newCondition();
    this.exchanges = new ArrayDeque<>();
    this.maxExchanges = maxExchanges;
    this.budget = new ByteBudget(maxRecordingBytes);
    this.overflow = overflow;
    this.views = new HashSet<>();
  }

  private Recording(Recording root, long from) {
    this.root = root;
    this.lock = root.lock;
    this.changed = root.changed;
    this.exchanges = root.exchanges;
    this.maxExchanges = root.maxExchanges;
    this.budget = root.budget;
    this.overflow = root.overflow;
    this.views = root.views;
    this.from = from;
  }

  /** Returns an empty recording that holds up to 100,000 exchanges, with no byte budget. */
  public static Recording create() {
    return new Recording(100_000, Long.MAX_VALUE, RecordingOverflow.DROP_OLDEST);
  }

  /** Returns a recording holding these exchanges, for replay. */
  public static Recording of(Collection<RecordedExchange> exchanges) {
    Recording recording = create();
    exchanges.forEach(recording::addImported);
    return recording;
  }

  /**
   * Reads a HAR 1.2 file, such as one saved by Chrome DevTools or by {@link #writeHar(Path)}.
   *
   * @throws UncheckedIOException if the file cannot be read or is not a HAR log; the message
   *     reads {@code could not read HAR file <path>: <cause>}
   */
  public static Recording fromHar(Path har) {
    try (Reader reader = Files.newBufferedReader(har, StandardCharsets.UTF_8)) {
      return of(HarReader.read(reader));
    } catch (NoSuchFileException e) {
      // A relative path resolves against the working directory, which in a build is the module's.
      throw new UncheckedIOException("could not read HAR file " + har + ": there is no file at "
          + har.toAbsolutePath() + " (to record it on the first run, use recordIfMissing)", e);
    } catch (IOException e) {
      throw new UncheckedIOException("could not read HAR file " + har + ": " + e.getMessage(), e);
    }
  }

  /**
   * Reads a HAR 1.2 document.
   *
   * @throws UncheckedIOException if it cannot be read or is not a HAR log; the message reads
   *     {@code could not read HAR: <cause>}
   */
  public static Recording fromHar(Reader har) {
    try {
      return of(HarReader.read(har));
    } catch (IOException e) {
      throw new UncheckedIOException("could not read HAR: " + e.getMessage(), e);
    }
  }

  /** Connects a proxy's recorder: where start orders come from and how many are in flight. */
  void attach(LongSupplier orders, IntSupplier inFlight) {
    this.orders = orders;
    this.inFlight = inFlight;
  }

  /** A view of the exchanges that start from now on, for one test on a shared proxy. */
  Recording view() {
    lock.lock();
    try {
      Recording view = new Recording(root, root.orders.getAsLong());
      views.add(view);
      return view;
    } finally {
      lock.unlock();
    }
  }

  /** Ends a view: exchanges that start from now on are not in it. */
  void end() {
    lock.lock();
    try {
      to = root.orders.getAsLong();
      views.remove(this);
    } finally {
      lock.unlock();
    }
  }

  /**
   * What a failure on a test's view of its class's shared proxy adds: an exchange is counted by
   * when it reached the proxy, so a request an earlier test sent without waiting for it counts
   * in the test running when it arrives (probe testkit3 F1).
   */
  static final String SHARED_PROXY_HINT = "\n(This test shares its class's proxy, and its "
      + "recording holds the exchanges that reached the proxy while it ran: a request an earlier "
      + "test sent without waiting for it, such as an unjoined sendAsync, is counted in the test "
      + "running when it arrives. Wait for such requests in the test that sends them, or give "
      + "each test its own proxy with FerryProxyExtension.perTest().)";

  /** True for one test's view of its class's shared proxy (see {@link #view()}). */
  boolean sharesItsProxy() {
    return root != this;
  }

  /** The last start order a closed view holds. */
  long endOrder() {
    return to;
  }

  private boolean inScope(RecordedExchange exchange) {
    return root == this || (exchange.order() > from && exchange.order() <= to
        && !cleared.contains(exchange.order()));
  }

  /**
   * Adds an exchange whose body bytes the recorder's captures already reserved, judging it first
   * for each recording that holds it and has a judge (see {@link #judgeEach}).
   */
  void add(RecordedExchange exchange) {
    lock.lock();
    try {
      forEachHolder(exchange, r -> {
        if (r.judge != null) {
          r.judge.judge(exchange);
        }
      });
      exchanges.addLast(exchange);
      while (exchanges.size() > maxExchanges) {
        evictOldest(false);
      }
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private void addImported(RecordedExchange exchange) {
    budget.force(exchange.retainedBytes());
    add(exchange);
  }

  /**
   * Reserves budget for {@code bytes} about to be captured; with {@link RecordingOverflow#DROP_OLDEST}
   * drops the oldest exchanges until they fit. Returns false if they cannot fit.
   */
  boolean reserve(int bytes) {
    if (budget.tryReserve(bytes)) {
      return true;
    }
    if (overflow != RecordingOverflow.DROP_OLDEST) {
      return false;
    }
    lock.lock();
    try {
      while (!budget.tryReserve(bytes)) {
        if (exchanges.isEmpty()) {
          return false;
        }
        evictOldest(true);
      }
      return true;
    } finally {
      lock.unlock();
    }
  }

  /** Reserves budget for {@code bytes} only if it is free, dropping nothing for them. */
  boolean reserveIfFree(int bytes) {
    return budget.tryReserve(bytes);
  }

  void release(long bytes) {
    budget.release(bytes);
  }

  void noteTruncated() {
    lock.lock();
    try {
      truncatedBodies++;
    } finally {
      lock.unlock();
    }
  }

  /** Drops the oldest exchange, counting it in each recording that held it. */
  private void evictOldest(boolean forBytes) {
    RecordedExchange oldest = exchanges.removeFirst();
    budget.release(oldest.retainedBytes());
    forEachHolder(oldest, r -> {
      r.dropped++;
      if (forBytes) {
        r.droppedForBytes++;
      }
    });
  }

  /** Runs {@code action} for the root and each open view holding {@code exchange}; under lock. */
  private void forEachHolder(RecordedExchange exchange, Consumer<Recording> action) {
    action.accept(root);
    for (Recording view : views) {
      if (view.inScope(exchange)) {
        action.accept(view);
      }
    }
  }

  /**
   * Judges each exchange of this recording as it is recorded, those already held included, so
   * that dropping it later past a bound, or {@link #clear()}, cannot hide it from the verdict
   * (probe t25); replaces an earlier judge.
   */
  void judgeEach(TrafficJudge judge) {
    lock.lock();
    try {
      this.judge = judge;
      for (RecordedExchange exchange : exchanges) {
        if (inScope(exchange)) {
          judge.judge(exchange);
        }
      }
    } finally {
      lock.unlock();
    }
  }

  /** The verdict of this recording's judge, if it has one and it found unexpected traffic. */
  Optional<String> unexpectedTraffic() {
    lock.lock();
    try {
      return judge == null ? Optional.empty() : judge.verdict();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Forgets the exchanges that started at or before {@code order} without counting them as
   * dropped: the shared proxy of a test class lets go of finished tests' traffic.
   */
  void discardUpTo(long order) {
    lock.lock();
    try {
      Iterator<RecordedExchange> it = exchanges.iterator();
      while (it.hasNext()) {
        RecordedExchange exchange = it.next();
        if (exchange.order() <= order) {
          it.remove();
          budget.release(exchange.retainedBytes());
        }
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * A snapshot of the recorded exchanges in the order they completed (a HAR export orders them
   * by when they started).
   */
  public List<RecordedExchange> exchanges() {
    return select(e -> true);
  }

  /**
   * The recorded exchanges that match, in the order they completed:
   * {@code exchanges(e -> e.method("POST").path("/orders"))}.
   */
  public List<RecordedExchange> exchanges(UnaryOperator<ExchangeMatcher> matcher) {
    return select(ExchangeMatcher.build(matcher));
  }

  /**
   * The first recorded exchange known to match, if any. A {@code bodyContains(...)} condition
   * that cannot judge an exchange's body (truncated, or in an encoding the recorder could not
   * decode) passes over it; when no exchange is known to match and one could not be judged,
   * this throws.
   *
   * @throws AssertionError if no exchange is known to match and one could not be judged; the
   *     message says why
   */
  public Optional<RecordedExchange> first(UnaryOperator<ExchangeMatcher> matcher) {
    return find(ExchangeMatcher.build(matcher)).first();
  }

  List<RecordedExchange> select(Predicate<? super RecordedExchange> filter) {
    lock.lock();
    try {
      List<RecordedExchange> found = new ArrayList<>();
      for (RecordedExchange exchange : exchanges) {
        if (inScope(exchange) && filter.test(exchange)) {
          found.add(exchange);
        }
      }
      return found;
    } finally {
      lock.unlock();
    }
  }

  /**
   * The exchanges known to match, for positive look-ups: one whose body a condition could not
   * judge is passed over, and the first such error kept, so that an unrelated truncated upload
   * does not fail a check another exchange passes (probe t26).
   */
  Found find(Predicate<? super RecordedExchange> filter) {
    lock.lock();
    try {
      List<RecordedExchange> found = new ArrayList<>();
      UndecidableBodyError undecided = null;
      for (RecordedExchange exchange : exchanges) {
        try {
          if (inScope(exchange) && filter.test(exchange)) {
            found.add(exchange);
          }
        } catch (UndecidableBodyError e) {
          undecided = undecided == null ? e : undecided;
        }
      }
      return new Found(found, undecided);
    } finally {
      lock.unlock();
    }
  }

  /** What {@link #find} found: the exchanges known to match, and why one could not be judged. */
  record Found(List<RecordedExchange> matches, UndecidableBodyError undecided) {
    /** True once an exchange is known to match. */
    boolean any() {
      return !matches.isEmpty();
    }

    /** The first known match; none known, the reason one could not be judged is thrown. */
    Optional<RecordedExchange> first() {
      if (matches.isEmpty() && undecided != null) {
        throw undecided;
      }
      return matches.stream().findFirst();
    }
  }

  /** The number of exchanges held. */
  public int size() {
    return exchanges().size();
  }

  /**
   * How many exchanges were dropped, oldest first, to stay within {@code maxExchanges} or the
   * byte budget. For a test's view on a shared proxy, how many of the test's own exchanges were:
   * another test's drops do not make this test's checks undecidable. While it is above zero,
   * the checks that a dropped exchange could change fail (see {@link RecordingAssert}).
   */
  public long dropped() {
    return locked(() -> dropped);
  }

  /**
   * Says how many exchanges were dropped and which bound to raise, for a check the dropped ones
   * could have decided otherwise; empty if none was dropped.
   */
  Optional<String> droppedReason() {
    lock.lock();
    try {
      List<String> reasons = new ArrayList<>();
      long forCount = dropped - droppedForBytes;
      if (forCount > 0) {
        reasons.add(exchangesWere(forCount) + " dropped to stay within maxExchanges ("
            + maxExchanges + "): raise maxExchanges");
      }
      if (droppedForBytes > 0) {
        reasons.add(exchangesWere(droppedForBytes) + " dropped to stay within the byte budget "
            + "(maxRecordingBytes " + budget.max() + "): raise maxRecordingBytes, or set "
            + "overflow(RecordingOverflow.TRUNCATE_BODIES) to keep every exchange and truncate "
            + "new bodies instead");
      }
      return reasons.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", reasons));
    } finally {
      lock.unlock();
    }
  }

  private static String exchangesWere(long count) {
    return count + (count == 1 ? " exchange was" : " exchanges were");
  }

  /**
   * How many bodies were truncated because the byte budget was spent (bodies longer than
   * {@code maxBodyBytes} are truncated too, but not counted here).
   */
  public long truncatedBodies() {
    return locked(() -> root.truncatedBodies);
  }

  /** The bytes the proxy's recording holds and reserves for captures in progress. */
  public long recordedBytes() {
    return budget.used();
  }

  private long locked(LongSupplier read) {
    lock.lock();
    try {
      return read.getAsLong();
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
    awaitTrue(() -> size() >= count, timeout, count + " exchanges");
    return exchanges();
  }

  /**
   * Waits until an exchange that matches has been recorded and returns the first such. It takes
   * the same matcher as {@code FerryAssertions.assertThat(recording).hasExchange(...)}.
   *
   * @throws AssertionError if none was recorded within the timeout; the message lists the others
   */
  public RecordedExchange awaitExchange(UnaryOperator<ExchangeMatcher> matcher,
      Duration timeout) {
    ExchangeMatcher m = ExchangeMatcher.build(matcher);
    if (!await(() -> find(m).any(), timeout)) {
      find(m).first(); // none known to match: one that could not be judged says why
      throw timedOut("an exchange with " + m, timeout);
    }
    return find(m).first().orElseThrow();
  }

  /** Waits until {@code condition} holds, re-checking whenever the recording changes. */
  boolean await(BooleanSupplier condition, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    lock.lock();
    try {
      while (!condition.getAsBoolean()) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        changed.await(left, TimeUnit.NANOSECONDS);
      }
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while waiting for recorded exchanges", e);
    } finally {
      lock.unlock();
    }
  }

  /** Exchanges the proxy has in progress now: begun, not recorded yet. */
  int inProgress() {
    return root.inFlight.getAsInt();
  }

  /** Waits until the proxy has no exchange in progress; false if that did not happen in time. */
  boolean awaitQuiet(Duration timeout) {
    return await(() -> root.inFlight.getAsInt() == 0, timeout);
  }

  /** Wakes waiters: an exchange ended without being recorded, so in-flight counts changed. */
  void signal() {
    lock.lock();
    try {
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private void awaitTrue(BooleanSupplier condition, Duration timeout, String what) {
    if (!await(condition, timeout)) {
      throw timedOut(what, timeout);
    }
  }

  private AssertionError timedOut(String what, Duration timeout) {
    return new AssertionError("expected " + what + " within " + timeout.toMillis() + " ms but "
        + describe(exchanges()));
  }

  /**
   * Forgets every recorded exchange, and the count of those dropped. For a test's view on a
   * shared proxy, hides those recorded so far from this view only. An extension's
   * {@code failOnUnexpectedTraffic} has judged them already: clearing does not forgive one.
   */
  public void clear() {
    if (root != this) {
      // Those recorded so far, not those started: one still in flight is recorded later, and
      // stays in the view, as a root recording's clear keeps it.
      lock.lock();
      try {
        for (RecordedExchange exchange : exchanges) {
          if (inScope(exchange)) {
            cleared.add(exchange.order());
          }
        }
        dropped = 0;
        droppedForBytes = 0;
      } finally {
        lock.unlock();
      }
      return;
    }
    lock.lock();
    try {
      exchanges.forEach(e -> budget.release(e.retainedBytes()));
      exchanges.clear();
      dropped = 0;
      droppedForBytes = 0;
      truncatedBodies = 0;
    } finally {
      lock.unlock();
    }
  }

  /** Returns the recording as a HAR 1.2 JSON document. */
  public String toHar() {
    StringWriter writer = new StringWriter();
    writeHar(writer);
    return writer.toString();
  }

  /**
   * Writes the recording as HAR 1.2 to a writer, which is flushed but not closed. It streams:
   * one body at a time is in memory besides the recording itself.
   *
   * @throws UncheckedIOException if writing fails; the message reads
   *     {@code could not write HAR: <cause>}
   */
  public void writeHar(Writer writer) {
    Objects.requireNonNull(writer, "writer");
    try {
      HarWriter.write(exchanges(), writer);
    } catch (IOException e) {
      throw new UncheckedIOException("could not write HAR: " + e.getMessage(), e);
    }
  }

  /**
   * Writes the recording as a HAR 1.2 file, creating parent directories as needed. The file is
   * replaced as a whole: the HAR is written to a temporary file in the same directory, which is
   * then moved over {@code path} (atomically where the file system can), so a reader, in this
   * JVM or another, sees the old file or the new one, never a half-written one.
   *
   * @throws UncheckedIOException if the file cannot be written; the message reads
   *     {@code could not write HAR file <path>: <cause>}
   */
  public void writeHar(Path path) {
    Path target = path.toAbsolutePath();
    Path temp = null;
    try {
      Path parent = target.getParent();
      Files.createDirectories(parent);
      // Truncating the target and streaming into it let another fork read half a file (probe t24).
      // Not Files.createTempFile, whose owner-only permissions the HAR would keep.
      temp = parent.resolve("." + target.getFileName() + "." + UUID.randomUUID() + ".tmp");
      try (Writer writer = Files.newBufferedWriter(temp, StandardCharsets.UTF_8,
          StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        HarWriter.write(exchanges(), writer);
      }
      try {
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
      }
      temp = null;
    } catch (IOException e) {
      throw new UncheckedIOException("could not write HAR file " + path + ": " + e.getMessage(), e);
    } finally {
      deleteQuietly(temp);
    }
  }

  private static void deleteQuietly(Path temp) {
    if (temp != null) {
      try {
        Files.deleteIfExists(temp);
      } catch (IOException ignored) {
        // The write has already failed; that is the error to report.
      }
    }
  }

  /**
   * Describes the exchanges, one per line up to {@link #MAX_LISTED}, then how many more there
   * are, as assertion messages do.
   */
  static String describe(List<RecordedExchange> exchanges) {
    return describe(exchanges, "recording.exchanges()");
  }

  /** As {@link #describe(List)}, naming {@code allIn} as where to find every exchange. */
  static String describe(List<RecordedExchange> exchanges, String allIn) {
    if (exchanges.isEmpty()) {
      return "no exchanges were recorded";
    }
    StringBuilder text = new StringBuilder()
        .append(exchanges.size()).append(exchanges.size() == 1 ? " exchange was" : " exchanges were")
        .append(" recorded:");
    for (RecordedExchange exchange : exchanges.subList(0, Math.min(exchanges.size(), MAX_LISTED))) {
      text.append("\n  ").append(exchange);
    }
    if (exchanges.size() > MAX_LISTED) {
      text.append("\n  ... and ").append(exchanges.size() - MAX_LISTED).append(" more (")
          .append(allIn).append(" has them all)");
    }
    return text.toString();
  }

  /**
   * Lists the recorded exchanges, one per line up to {@link #MAX_LISTED} and a count of the rest,
   * and what was dropped or truncated.
   */
  @Override
  public String toString() {
    String lost = dropped() == 0 && truncatedBodies() == 0 ? ""
        : " (" + dropped() + " dropped, " + truncatedBodies() + " bodies truncated by the budget)";
    return describe(exchanges()) + lost;
  }
}
