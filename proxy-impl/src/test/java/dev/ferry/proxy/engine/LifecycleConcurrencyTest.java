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
