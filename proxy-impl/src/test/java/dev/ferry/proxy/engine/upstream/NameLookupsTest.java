package dev.ferry.proxy.engine.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.engine.Await;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.ProxyFailure;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The event loops' name lookups, with the system's resolver (on their own threads, and after a
 * stop) and with a resolver of the test's own that is slow on some names.
 */
class NameLookupsTest {
  private record Outcome(List<InetAddress> addresses, HttpFailureException failure, String thread) {}

  private static Outcome lookUp(NameLookups lookups, String host) throws Exception {
    return start(lookups, host, 80).get(10, TimeUnit.SECONDS);
  }

  private static CompletableFuture<Outcome> start(NameLookups lookups, String host, int port) {
    CompletableFuture<Outcome> outcome = new CompletableFuture<>();
    lookups.lookUp(new UpstreamKey(host, port, false), (addresses, failure) ->
        outcome.complete(new Outcome(addresses, failure, Thread.currentThread().getName())));
    return outcome;
  }

  /**
   * A resolver answering loopback for every name, after {@code slow} is counted down for names
   * that start with "slow"; {@code calls} counts the lookups made of each kind.
   */
  private static NameLookups.Resolver resolver(CountDownLatch slow, AtomicInteger calls) {
    return key -> {
      calls.incrementAndGet();
      if (key.host().startsWith("slow")) {
        try {
          slow.await(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          throw new HttpFailureException(ProxyFailure.PROXY_STOPPED, "interrupted");
        }
      }
      return List.of(InetAddress.getLoopbackAddress());
    };
  }

  private static NameLookups lookups(List<Thread> started) {
    return new NameLookups(threads(started));
  }

  /** Makes daemon threads named test-lookup-N, each added to {@code started}. */
  private static ThreadFactory threads(List<Thread> started) {
    return task -> {
      Thread thread = new Thread(task, "test-lookup-" + started.size());
      thread.setDaemon(true);
      started.add(thread);
      return thread;
    };
  }

  @Test
  void looksANameUpOnALookupThread() throws Exception {
    try (NameLookups lookups = lookups(new CopyOnWriteArrayList<>())) {
      Outcome found = lookUp(lookups, "localhost");
      assertThat(found.failure()).isNull();
      assertThat(found.addresses()).isNotEmpty().allMatch(InetAddress::isLoopbackAddress);
      assertThat(found.thread()).startsWith("test-lookup-");
    }
  }

  @Test
  void answersAnUnknownHostAs502() throws Exception {
    try (NameLookups lookups = lookups(new CopyOnWriteArrayList<>())) {
      Outcome unknown = lookUp(lookups, "no-such-host.invalid");
      assertThat(unknown.addresses()).isNull();
      assertThat(unknown.failure().failure()).isEqualTo(ProxyFailure.UPSTREAM_UNREACHABLE);
      assertThat(unknown.failure().getMessage()).contains("no-such-host.invalid (unknown host)");
    }
  }

  /** Once closed, a lookup is answered at once, on the caller's thread, and its threads are gone. */
  @Test
  void answersAtOnceOnceClosedAndLeavesNoThread() throws Exception {
    List<Thread> started = new CopyOnWriteArrayList<>();
    NameLookups lookups = lookups(started);
    lookUp(lookups, "localhost");
    lookups.close();
    Outcome stopped = lookUp(lookups, "localhost");
    assertThat(stopped.failure().failure()).isEqualTo(ProxyFailure.PROXY_STOPPED);
    assertThat(stopped.thread()).isEqualTo(Thread.currentThread().getName());
    assertThat(started).isNotEmpty();
    for (Thread thread : started) {
      // The pool is terminated once its workers left their loop; each thread ends just after.
      thread.join(TimeUnit.SECONDS.toMillis(10));
      assertThat(thread.isAlive()).as(thread.getName()).isFalse();
    }
  }

  /** Many exchanges asking for one name meanwhile make one lookup, and all get its answer. */
  @Test
  void looksANameUpOnceForAllWhoAskMeanwhile() throws Exception {
    CountDownLatch slow = new CountDownLatch(1);
    AtomicInteger calls = new AtomicInteger();
    try (NameLookups lookups = new NameLookups(threads(new CopyOnWriteArrayList<>()),
        resolver(slow, calls))) {
      List<CompletableFuture<Outcome>> waiting = new ArrayList<>();
      for (int port = 80; port < 85; port++) {
        waiting.add(start(lookups, "slow.test", port));
      }
      slow.countDown();
      for (CompletableFuture<Outcome> outcome : waiting) {
        assertThat(outcome.get(10, TimeUnit.SECONDS).addresses()).containsExactly(InetAddress.getLoopbackAddress());
      }
      assertThat(calls.get()).isEqualTo(1);
    }
  }

  /**
   * Names the resolver is slow on, more of them than the four lookup threads there were, and
   * asked for again and again, leave room for other names: a forward proxy's clients choose
   * the names, and one slow name must not hold every lookup behind it.
   */
  @Test
  void answersOtherNamesWhileSomeAreSlow() throws Exception {
    CountDownLatch slow = new CountDownLatch(1);
    AtomicInteger calls = new AtomicInteger();
    List<CompletableFuture<Outcome>> waiting = new ArrayList<>();
    try (NameLookups lookups = new NameLookups(threads(new CopyOnWriteArrayList<>()),
        resolver(slow, calls))) {
      for (int i = 0; i < 40; i++) {
        waiting.add(start(lookups, "slow-" + (i % 8) + ".test", 80));
      }
      Outcome fast = start(lookups, "fast.test", 80).get(10, TimeUnit.SECONDS);
      assertThat(fast.addresses()).containsExactly(InetAddress.getLoopbackAddress());
      assertThat(waiting).noneMatch(CompletableFuture::isDone);
      // One lookup per name, nine in all; a slow name's may begin after the fast one's ended
      // (its thread started later: CI once counted 8 here).
      Await.until(() -> calls.get() >= 9, "a lookup for each of the nine names");
      assertThat(calls.get()).isEqualTo(9);
      slow.countDown();
      for (CompletableFuture<Outcome> outcome : waiting) {
        assertThat(outcome.get(10, TimeUnit.SECONDS).failure()).isNull();
      }
    }
  }

  /** A lookup not done when the proxy stops is answered as stopped at once, not left waiting. */
  @Test
  void answersLookupsUnderWayAsStoppedOnClose() throws Exception {
    CountDownLatch slow = new CountDownLatch(1);
    NameLookups lookups = new NameLookups(threads(new CopyOnWriteArrayList<>()),
        resolver(slow, new AtomicInteger()));
    CompletableFuture<Outcome> waiting = start(lookups, "slow.test", 80);
    lookups.close();
    assertThat(waiting.get(10, TimeUnit.SECONDS).failure().failure()).isEqualTo(ProxyFailure.PROXY_STOPPED);
    slow.countDown();
  }
}
