package dev.ferry.proxy.engine.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.proxy.engine.Await;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.ProxyFailure;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MissCoalescerTest {

  /**
   * A leader whose outcome is never told (a defect ended its fetch, on a thread or a loop) holds
   * its URL's misses once, for the wait: the miss that gave up on it leaves the URL to the next
   * one to lead, which fetches at once instead of waiting in turn.
   */
  @Test
  void leadsAnewAfterALeaderThatNeverTold() throws Exception {
    MissCoalescer coalescer = new MissCoalescer(Duration.ofMillis(50));
    assertThat(coalescer.fetchNow("k")).as("a loop's lead, never told").isNotNull();
    AtomicInteger leads = new AtomicInteger();
    AtomicInteger follows = new AtomicInteger();
    for (int i = 0; i < 2; i++) {
      coalescer.run("k", Duration.ZERO, (outcome, waitedFor) -> {
        leads.incrementAndGet();
        outcome.finished();
        return null;
      }, again -> {
        follows.incrementAndGet();
        return null;
      });
    }
    assertThat(follows).as("the miss that waited for the silent leader").hasValue(1);
    assertThat(leads).as("the next miss, leading").hasValue(1);
  }

  /**
   * A miss waits on the leader at least as long as the leader may wait for its upstream (a
   * route's own timeout, times its tries): with an upstream timeout past the usual wait, it once
   * gave up first and sent the origin that did not answer a request of its own, answered after
   * both waits together (probes u11, v11).
   */
  @Test
  void waitsForALeaderAsLongAsItsUpstreamTimeoutAndSharesTheTimeout() throws Exception {
    Duration shortWait = Duration.ofMillis(100);
    MissCoalescer coalescer = new MissCoalescer(shortWait);
    Duration upstreamTimeout = Duration.ofSeconds(5);
    CountDownLatch leading = new CountDownLatch(1);
    CountDownLatch timeUp = new CountDownLatch(1);
    AtomicInteger ownFetches = new AtomicInteger();
    // Threads of their own: the common pool may have one thread, which the leader would hold.
    Thread leader = new Thread(() -> {
      try {
        coalescer.run("k", upstreamTimeout, (outcome, waitedFor) -> {
          leading.countDown();
          try {
            timeUp.await(10, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            throw new java.io.InterruptedIOException();
          }
          HttpFailureException timeout = new HttpFailureException(ProxyFailure.UPSTREAM_TIMEOUT, "no answer");
          outcome.failed(timeout);
          throw timeout;
        }, again -> null);
      } catch (Exception expected) {
        // the leader's own timeout
      }
    }, "leader");
    leader.start();
    assertThat(leading.await(10, TimeUnit.SECONDS)).isTrue();
    CompletableFuture<Throwable> waiterOutcome = new CompletableFuture<>();
    Thread waiter = new Thread(() -> {
      try {
        coalescer.run("k", upstreamTimeout, (outcome, waitedFor) -> {
          ownFetches.incrementAndGet();
          return null;
        }, again -> {
          ownFetches.incrementAndGet();
          return null;
        });
        waiterOutcome.complete(null);
      } catch (Exception e) {
        waiterOutcome.complete(e);
      }
    }, "waiter");
    waiter.start();
    Await.until(() -> waiter.getState() == Thread.State.TIMED_WAITING, "the miss to wait on the leader");
    // The behaviour under test is a wait past the short one: let it pass, then time the leader out.
    long past = System.nanoTime() + 3 * shortWait.toNanos();
    Await.until(() -> System.nanoTime() > past, "the short wait to pass");
    assertThat(waiterOutcome).isNotDone();
    timeUp.countDown();
    assertThat(waiterOutcome.get(10, TimeUnit.SECONDS)).isInstanceOf(HttpFailureException.class)
        .satisfies(e -> assertThat(((HttpFailureException) e).failure()).isEqualTo(ProxyFailure.UPSTREAM_TIMEOUT));
    assertThat(ownFetches).hasValue(0);
    leader.join(10_000);
    assertThat(leader.isAlive()).isFalse();
  }

  /**
   * A waiter whose leader stored nothing (its fetch failed, or its response could not be stored)
   * fetches for itself at once; only one whose leader stored a response (another variant) or
   * got a 304 to its own condition goes through the coalescer again. Queued behind each other,
   * waiters on a failing origin waited for one failure after another (probe v14).
   */
  @ParameterizedTest
  @ValueSource(strings = {"failed", "refused", "finished", "declined"})
  void tellsItsWaitersWhetherToQueueAgain(String ended) throws Exception {
    MissCoalescer coalescer = new MissCoalescer(Duration.ofSeconds(5));
    CountDownLatch leading = new CountDownLatch(1);
    CountDownLatch end = new CountDownLatch(1);
    Thread leader = new Thread(() -> {
      try {
        coalescer.run("k", Duration.ofSeconds(5), (outcome, waitedFor) -> {
          leading.countDown();
          try {
            end.await(10, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            throw new java.io.InterruptedIOException();
          }
          switch (ended) {
            case "failed" -> outcome.failed(new java.io.IOException("connection reset"));
            case "refused" -> outcome.refused();
            case "finished" -> outcome.finished();
            default -> outcome.declined();
          }
          return null;
        }, again -> null);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }, "leader");
    leader.start();
    assertThat(leading.await(10, TimeUnit.SECONDS)).isTrue();
    CompletableFuture<Boolean> queueAgain = new CompletableFuture<>();
    Thread waiter = new Thread(() -> {
      try {
        coalescer.run("k", Duration.ofSeconds(5), (outcome, waitedFor) -> null, again -> {
          queueAgain.complete(again);
          return null;
        });
      } catch (Exception e) {
        queueAgain.completeExceptionally(e);
      }
    }, "waiter");
    waiter.start();
    Await.until(() -> waiter.getState() == Thread.State.TIMED_WAITING, "the miss to wait on the leader");
    end.countDown();
    assertThat(queueAgain.get(10, TimeUnit.SECONDS)).isEqualTo(ended.equals("finished") || ended.equals("declined"));
    leader.join(10_000);
    waiter.join(10_000);
  }

  /**
   * The URLs remembered as uncacheable are bounded by what they weigh, not by count: 10,000
   * distinct 8,000-character URLs held 84 MB of heap for a minute, outside the cache's own
   * bound (probe resources F2). Short ones are still remembered by the thousand.
   */
  @Test
  void remembersUncacheableUrlsWithinAWeightBound() throws Exception {
    MissCoalescer coalescer = new MissCoalescer(Duration.ofSeconds(5));
    String longPath = "/" + "a".repeat(8_000);
    for (int i = 0; i < 1_000; i++) {
      refuse(coalescer, "http://site" + longPath + i);
    }
    assertThat(coalescer.uncacheableUrls()).isBetween(100L, 300L);

    MissCoalescer shortUrls = new MissCoalescer(Duration.ofSeconds(5));
    for (int i = 0; i < 2_000; i++) {
      refuse(shortUrls, "http://site/poll?n=" + i);
    }
    assertThat(shortUrls.uncacheableUrls()).isEqualTo(2_000L);
  }

  /**
   * A fetch is told whether misses of its URL wait for it (it may then look in the store once
   * more before it goes upstream); one of a URL whose last answer could not be stored waits for
   * no one and is told so.
   */
  @Test
  void tellsAFetchWhetherOtherMissesWaitForIt() throws Exception {
    MissCoalescer coalescer = new MissCoalescer(Duration.ofSeconds(5));
    java.util.List<Boolean> told = new java.util.ArrayList<>();
    for (int i = 0; i < 2; i++) {
      coalescer.run("k", Duration.ofSeconds(1), (outcome, waitedFor) -> {
        told.add(waitedFor);
        outcome.refused();
        return null;
      }, again -> null);
    }
    assertThat(told).as("the first miss leads; the next, its URL known uncacheable, does not").containsExactly(true, false);
  }

  /** A miss of {@code key} whose response may not be stored. */
  private static void refuse(MissCoalescer coalescer, String key) throws Exception {
    coalescer.run(key, Duration.ofSeconds(1), (outcome, waitedFor) -> {
      outcome.refused();
      return null;
    }, again -> null);
  }
}
