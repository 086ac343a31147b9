package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.Concurrency;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The pool's own count of the connection tasks running, on which holding idle connections rests. */
class ConnectionExecutorTest {
  /**
   * A connection that takes its turn and goes to the back of the queue stops counting as running
   * the moment it does, not when its old task returns: its next turn, begun on another thread
   * meanwhile, counted twice and was refused the hold of an idle connection (a pool of 4: two
   * running is half), so it parked where it should have been held (CI, with two test JVMs:
   * {@code ParkedIdleConnectionTest}, two connections held where three should be).
   */
  @Test
  void stopsCountingATurnThatWentBackToTheQueue() throws Exception {
    ConnectionExecutor executor = ConnectionExecutor.create(Concurrency.boundedPool(4, 0), 0);
    AtomicInteger turns = new AtomicInteger();
    AtomicBoolean held = new AtomicBoolean();
    CountDownLatch secondTurnAsked = new CountDownLatch(1);
    CountDownLatch firstTurnOver = new CountDownLatch(1);
    Runnable[] connection = new Runnable[1];
    connection[0] = () -> {
      if (turns.incrementAndGet() == 1) {
        assertThat(executor.requeue(connection[0])).isTrue();
        try {
          // The old turn has not returned yet when the new one asks.
          secondTurnAsked.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        firstTurnOver.countDown();
      } else {
        boolean hold = executor.holdIdle();
        if (hold) {
          executor.releaseIdle();
        }
        held.set(hold);
        secondTurnAsked.countDown();
      }
    };
    try {
      executor.execute(connection[0]);
      assertThat(secondTurnAsked.await(10, TimeUnit.SECONDS)).as("the second turn").isTrue();
      assertThat(firstTurnOver.await(10, TimeUnit.SECONDS)).as("the first turn's end").isTrue();
      assertThat(held).as("one connection running of four threads: it may hold its idle wait").isTrue();
    } finally {
      executor.shutdown(Duration.ofSeconds(10));
    }
    assertThat(executor.activeWorkers()).isZero();
  }
}
