package dev.ferry.proxy.engine.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The memory budget for request bodies awaited whole, and how a connection's input takes from
 * it when its buffer grows for one and gives it back when the buffer is dropped.
 */
class ByteBudgetTest {
  @Test
  void refusesWhatWouldPassTheLimitAndTakesAgainOnceGivenBack() {
    ByteBudget budget = new ByteBudget(100);
    assertThat(budget.tryTake(60)).isTrue();
    assertThat(budget.tryTake(41)).isFalse();
    assertThat(budget.taken()).isEqualTo(60);
    assertThat(budget.tryTake(40)).isTrue();
    budget.give(60);
    assertThat(budget.tryTake(60)).isTrue();
    assertThat(budget.taken()).isEqualTo(100);
  }

  @Test
  void neverHandsOutMoreThanItsLimitToConcurrentTakers() throws Exception {
    ByteBudget budget = new ByteBudget(1000);
    AtomicLong mostSeen = new AtomicLong();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 8; t++) {
      Thread thread = new Thread(() -> {
        for (int i = 0; i < 20_000; i++) {
          if (budget.tryTake(300)) {
            mostSeen.accumulateAndGet(budget.taken(), Math::max);
            budget.give(300);
          }
        }
      });
      thread.start();
      threads.add(thread);
    }
    for (Thread thread : threads) {
      thread.join();
    }
    assertThat(mostSeen.get()).isBetween(300L, 900L);
    assertThat(budget.taken()).isZero();
  }

  @Test
  void aGrowingBufferTakesFromTheBudgetAndGivesBackWhenDropped() throws IOException {
    ByteBudget budget = new ByteBudget(48 * 1024);
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        Socket client = new Socket(server.getInetAddress(), server.getLocalPort());
        Socket accepted = server.accept()) {
      ConnectionInput in = new ConnectionInput(accepted, 16 * 1024);
      OutputStream out = client.getOutputStream();
      out.write(new byte[16 * 1024]);
      assertThat(in.makeRoom(100_000, budget)).isTrue();
      while (in.available() < 16 * 1024) {
        assertThat(in.awaitMore(5000)).isTrue();
      }
      assertThat(in.makeRoom(100_000, budget)).as("doubled to 32 KiB").isTrue();
      assertThat(budget.taken()).isEqualTo(16 * 1024);
      out.write(new byte[16 * 1024]);
      while (in.available() < 32 * 1024) {
        assertThat(in.awaitMore(5000)).isTrue();
      }
      assertThat(in.makeRoom(100_000, budget)).as("doubled to 64 KiB").isTrue();
      assertThat(budget.taken()).isEqualTo(48 * 1024);
      out.write(new byte[32 * 1024]);
      while (in.available() < 64 * 1024) {
        assertThat(in.awaitMore(5000)).isTrue();
      }
      assertThat(in.makeRoom(100_000, budget)).as("the budget is spent").isFalse();
      assertThat(budget.taken()).as("nothing more taken").isEqualTo(48 * 1024);
      in.skipNBytes(64 * 1024);
      in.trimBuffer();
      assertThat(budget.taken()).isZero();
    }
  }
}
