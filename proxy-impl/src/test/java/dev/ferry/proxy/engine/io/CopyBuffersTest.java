package dev.ferry.proxy.engine.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The copy-buffer pool lends each buffer to one borrower at a time and keeps what it is given. */
class CopyBuffersTest {
  @Test
  void lendsABufferGivenBackAndNewOnesWhenEmpty() {
    byte[] first = CopyBuffers.take();
    byte[] second = CopyBuffers.take();
    assertThat(first).hasSize(CopyBuffers.SIZE).isNotSameAs(second);
    CopyBuffers.give(first);
    byte[] again = CopyBuffers.take();
    assertThat(again).isSameAs(first);
    CopyBuffers.give(again);
    CopyBuffers.give(second);
  }

  @Test
  void neverLendsOneBufferToTwoBorrowersAtOnce() throws Exception {
    AtomicInteger clashes = new AtomicInteger();
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> borrowers = new ArrayList<>();
    for (int t = 0; t < 8; t++) {
      byte mark = (byte) (t + 1);
      Thread borrower = new Thread(() -> {
        try {
          start.await();
        } catch (InterruptedException e) {
          return;
        }
        for (int i = 0; i < 20_000; i++) {
          byte[] buffer = CopyBuffers.take();
          buffer[0] = mark;
          buffer[CopyBuffers.SIZE - 1] = mark;
          Thread.yield();
          if (buffer[0] != mark || buffer[CopyBuffers.SIZE - 1] != mark) {
            clashes.incrementAndGet();
          }
          CopyBuffers.give(buffer);
        }
      }, "copy-buffers-borrower-" + t);
      borrower.start();
      borrowers.add(borrower);
    }
    start.countDown();
    for (Thread borrower : borrowers) {
      borrower.join(60_000);
      assertThat(borrower.isAlive()).isFalse();
    }
    assertThat(clashes.get()).isZero();
  }
}
