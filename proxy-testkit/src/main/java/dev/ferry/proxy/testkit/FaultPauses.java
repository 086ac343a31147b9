package dev.ferry.proxy.testkit;

import java.io.InterruptedIOException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;

/**
 * The waits faults impose (latency, bandwidth), which the proxy's close cuts short: a test that
 * ends while an injected latency holds an exchange (a client that timed out, as tested) would
 * otherwise hold the close for its whole grace, and the interrupt at its end was logged as the
 * fault filter failing (probe t27).
 */
final class FaultPauses {
  private final Set<Thread> waiting = ConcurrentHashMap.newKeySet();
  private volatile boolean closing;

  /**
   * Waits {@code nanos}; the wait is the fault itself, not test synchronisation.
   *
   * @return false if the proxy began closing first
   * @throws InterruptedIOException if the thread was interrupted
   */
  boolean pause(long nanos) throws InterruptedIOException {
    Thread self = Thread.currentThread();
    // Registered before closing is read: a close either is seen here or finds this thread.
    waiting.add(self);
    try {
      long deadline = System.nanoTime() + nanos;
      long left;
      while ((left = deadline - System.nanoTime()) > 0) {
        if (closing) {
          return false;
        }
        LockSupport.parkNanos(this, left);
        if (Thread.interrupted()) {
          self.interrupt();
          throw new InterruptedIOException("fault pause interrupted");
        }
      }
      return true;
    } finally {
      waiting.remove(self);
    }
  }

  /** Ends every wait at once, and those to come. */
  void close() {
    closing = true;
    waiting.forEach(LockSupport::unpark);
  }
}
