package dev.ferry.proxy.testkit;

import java.io.InterruptedIOException;
import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;

/**
 * The waits faults impose (latency, bandwidth), which the proxy's close cuts short, and a test
 * view's close those of the faults its test injected: a test that ends while an injected latency
 * holds an exchange (a client that timed out, as tested) would otherwise hold the close for its
 * whole grace, and the interrupt at its end was logged as the fault filter failing (probe t27);
 * on a shared proxy the held request reached the origin during the next test (probe t28).
 */
final class FaultPauses {
  /** Each waiting thread's wait. */
  private final Map<Thread, Wait> waiting = new ConcurrentHashMap<>();
  /**
   * Owners whose views closed: a wait for a rule matched just before its view closed starts
   * after the close looked for waits, and must end at once too (weakly held: views come and go).
   */
  private final Set<Object> ended = Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()));
  private volatile boolean closing;

  /** One wait: the owner of the fault it is for (null: the proxy's own rules), and whether it was cut. */
  private static final class Wait {
    final Object owner;
    volatile boolean cut;

    Wait(Object owner) {
      this.owner = owner;
    }
  }

  /**
   * Waits {@code nanos} for a fault {@code owner} injected (null for the proxy's own); the wait
   * is the fault itself, not test synchronisation.
   *
   * @return false if the proxy began closing first, or the owner's test view was closed
   * @throws InterruptedIOException if the thread was interrupted
   */
  boolean pause(long nanos, Object owner) throws InterruptedIOException {
    Thread self = Thread.currentThread();
    Wait wait = new Wait(owner);
    // Registered before the flags are read: a close either is seen here or finds this wait.
    waiting.put(self, wait);
    try {
      long deadline = System.nanoTime() + nanos;
      long left;
      while ((left = deadline - System.nanoTime()) > 0) {
        if (closing || wait.cut || owner != null && ended.contains(owner)) {
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
    waiting.keySet().forEach(LockSupport::unpark);
  }

  /**
   * Ends the waits of the faults {@code owner} injected, and those of its rules a request
   * matched before they were removed that have yet to begin.
   */
  void close(Object owner) {
    // Marked before the waits are looked for: a wait registered meanwhile sees the mark.
    ended.add(owner);
    waiting.forEach((thread, wait) -> {
      if (wait.owner == owner) {
        wait.cut = true;
        LockSupport.unpark(thread);
      }
    });
  }
}
