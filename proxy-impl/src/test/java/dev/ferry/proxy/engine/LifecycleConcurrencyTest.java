package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.ProxyServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * start(), stop() and close() racing on one proxy: one start wins, the others get the documented
 * IllegalStateException, every call returns, and no thread of the proxy outlives it.
 */
class LifecycleConcurrencyTest {
  private static final int ROUNDS = 40;
  private static final int THREADS = 8;

  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  /**
   * A grace of FOREVER overflowed in nanoseconds once the listener was closed: the stop threw
   * half done, logged nothing and left a pool thread running (probe v31); a null grace threw
   * only after the stop had begun.
   */
  @Test
  void checksAndBoundsTheGraceBeforeStopping() throws Exception {
    TinyOrigin origin = ferry.track(TinyOrigin.answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    ProxyServer proxy = ferry.start(ProxyServer.builder().upstream(dev.ferry.proxy.Upstream.of(origin.url("/"))));
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> proxy.stop(null))
        .isInstanceOf(NullPointerException.class).hasMessage("grace");
    try (RawClient raw = new RawClient(proxy.address())) {
      assertThat(raw.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().bodyText()).isEqualTo("ok");
    }
    proxy.stop(java.time.temporal.ChronoUnit.FOREVER.getDuration());
    ThreadLeaks.assertNoThreadsFor(proxy.port());
  }

  @Test
  void survivesConcurrentStartStopAndClose() throws Exception {
    for (int round = 0; round < ROUNDS; round++) {
      ProxyServer proxy = ProxyServer.builder().build();
      ConcurrentLinkedQueue<String> unexpected = new ConcurrentLinkedQueue<>();
      AtomicInteger starts = new AtomicInteger();
      AtomicInteger port = new AtomicInteger(-1);
      CountDownLatch go = new CountDownLatch(1);
      List<Thread> threads = new ArrayList<>();
      for (int i = 0; i < THREADS; i++) {
        int role = i % 3;
        threads.add(daemon("lifecycle-race-" + i, () -> {
          go.await();
          try {
            switch (role) {
              case 0 -> {
                proxy.start();
                starts.incrementAndGet();
                port.set(proxy.port());
              }
              case 1 -> proxy.stop(Duration.ofMillis(100));
              default -> proxy.close();
            }
          } catch (IllegalStateException e) {
            if (role != 0 || !e.getMessage().contains("a proxy starts once")) {
              unexpected.add(e.toString());
            }
          } catch (RuntimeException e) {
            unexpected.add(e.toString());
          }
        }));
      }
      go.countDown();
      List<Thread> racers = List.copyOf(threads);
      threads.add(daemon("lifecycle-final-close", () -> {
        for (Thread thread : racers) {
          thread.join();
        }
        proxy.close();
        proxy.awaitTermination();
      }));
      for (Thread thread : threads) {
        thread.join(TimeUnit.SECONDS.toMillis(20));
        assertThat(thread.isAlive()).as("round %d: %s returned; unexpected %s", round, thread.getName(),
            unexpected).isFalse();
      }
      assertThat(unexpected).as("round %d: unexpected exceptions", round).isEmpty();
      assertThat(starts.get()).as("successful starts").isLessThanOrEqualTo(1);
      if (port.get() > 0) {
        ThreadLeaks.assertNoThreadsFor(port.get());
      }
    }
  }

  /** A started daemon thread, so that a call that never returns cannot keep the JVM alive. */
  private static Thread daemon(String name, Action action) {
    Thread thread = new Thread(() -> {
      try {
        action.run();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, name);
    thread.setDaemon(true);
    thread.start();
    return thread;
  }

  @FunctionalInterface
  private interface Action {
    void run() throws InterruptedException;
  }
}
