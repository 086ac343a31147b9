package dev.ferry.proxy.engine.io;

import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;

/**
 * The timeouts of one socket's reads, for {@link ConnectionInput} (whose class comment gives the
 * two kinds): a deadline or a per-read timeout that the {@link IoWatchdog} keeps for a watched
 * read, which then blocks without SO_TIMEOUT; or SO_TIMEOUT, for a read that must survive its
 * timeout, on TLS, or without a watchdog. The watchdog's sweep shuts down the input of a read
 * still blocked past its deadline: that read, and every one after it, fails as timed out.
 *
 * <p>A read goes {@link #arm()}, the read itself, {@link #end(int)} (or {@link #failure} for
 * what it threw), then {@link #done()}; a read that {@link #arm()} did not watch runs under the
 * SO_TIMEOUT it set.
 *
 * <p>A watched input may also carry a long-wait action ({@link #onLongWait}), which the sweep runs
 * once when its time comes, for work that only a wait longer than usual is worth (looking for a
 * client that left while an upstream is slow to answer).
 */
final class ReadTimeouts {
  private static final AtomicReferenceFieldUpdater<ReadTimeouts, Runnable> LONG_WAIT =
      AtomicReferenceFieldUpdater.newUpdater(ReadTimeouts.class, Runnable.class, "longWait");

  private final Socket socket;
  /** Null when reads must use SO_TIMEOUT (TLS, no watchdog). */
  private final IoWatchdog watchdog;
  private long deadlineNanos;
  private int readTimeoutMillis;
  private boolean recoverable;
  private int soTimeout = -1;
  private boolean watched;
  /** The deadline of the watched read blocked now; 0 when none is. */
  private volatile long blockedUntilNanos;
  /** Set by the watchdog when it ended a read at its deadline; the input is over. */
  private volatile boolean expired;
  /** Run once by the sweep from {@link #longWaitAtNanos} on; null when none is due. */
  private volatile Runnable longWait;
  private volatile long longWaitAtNanos;

  ReadTimeouts(Socket socket, IoWatchdog watchdog) {
    this.socket = socket;
    this.watchdog = watchdog;
  }

  /** See {@link ConnectionInput#readTimeout}. */
  void readTimeout(int millis) {
    this.readTimeoutMillis = millis;
    this.deadlineNanos = 0;
    this.recoverable = false;
  }

  /** See {@link ConnectionInput#deadline}. */
  void deadline(long deadlineNanos) {
    this.deadlineNanos = deadlineNanos;
    this.recoverable = false;
  }

  /** See {@link ConnectionInput#recoverableTimeout}. */
  void recoverableTimeout(int millis) {
    this.readTimeoutMillis = millis;
    this.deadlineNanos = 0;
    this.recoverable = true;
  }

  /** True if reads of this socket may be watched: a plain socket with a watchdog. */
  boolean watchable() {
    return watchdog != null;
  }

  /** True if the next read is watched, so may go through the socket's channel (see {@link ConnectionInput#readsChannel}). */
  boolean readsChannel() {
    return watchdog != null && !recoverable && watchdog.running();
  }

  /**
   * Prepares a read: true for a watched read, whose deadline is now published to the watchdog,
   * false for one under SO_TIMEOUT, now set.
   *
   * @throws SocketTimeoutException if the input is over or the deadline has passed
   */
  boolean arm() throws IOException {
    if (expired) {
      throw timedOut();
    }
    long until = deadlineNanos;
    if (until == 0 && readTimeoutMillis > 0) {
      until = System.nanoTime() + readTimeoutMillis * 1_000_000L;
    }
    if (recoverable || watchdog == null || !watchdog.running()) {
      soTimeout(remainingMillis(until));
      return false;
    }
    if (until != 0 && until - System.nanoTime() <= 0) {
      throw new SocketTimeoutException("deadline passed");
    }
    soTimeout(0);
    if (!watched) {
      watched = true;
      watchdog.watch(this);
    }
    blockedUntilNanos = until;
    return true;
  }

  /** A watched read returned {@code n}: n, unless the watchdog ended it. */
  int end(int n) throws SocketTimeoutException {
    if (expired) {
      throw timedOut();
    }
    return n;
  }

  /** What a watched read that threw {@code e} fails with: a timeout if the watchdog ended it. */
  IOException failure(IOException e) {
    return expired ? timedOut() : e;
  }

  /** A watched read is over, however it ended. */
  void done() {
    blockedUntilNanos = 0;
  }

  /** Sets the socket's SO_TIMEOUT, if it is not that already. */
  void soTimeout(int millis) throws IOException {
    if (millis != soTimeout) {
      socket.setSoTimeout(millis);
      soTimeout = millis;
    }
  }

  /** See {@link ConnectionInput#unwatch}. */
  void unwatch() {
    if (watched) {
      watched = false;
      watchdog.unwatch(this);
    }
  }

  /** See {@link ConnectionInput#onLongWait}: true if the sweep will see this input's reads. */
  boolean onLongWait(Runnable action, long atNanos) {
    if (watchdog == null || recoverable || !watchdog.running()) {
      return false;
    }
    longWaitAtNanos = atNanos;
    longWait = action;
    return true;
  }

  /** Drops a long-wait action that has not run. */
  void cancelLongWait() {
    longWait = null;
  }

  /** Runs the long-wait action if its time has come (the watchdog's sweep). */
  void runLongWaitIfDue(long now) {
    Runnable action = longWait;
    // Taken only if it is still the one read: a worker may have replaced it meanwhile.
    if (action != null && now - longWaitAtNanos >= 0 && LONG_WAIT.compareAndSet(this, action, null)) {
      action.run();
    }
  }

  boolean isClosed() {
    return socket.isClosed();
  }

  /** Ends the read blocked now if its deadline is before {@code now} (the watchdog's sweep). */
  void expireIfPast(long now) {
    long until = blockedUntilNanos;
    if (until != 0 && now - until >= 0) {
      expired = true;
      if (blockedUntilNanos != until) {
        // The read ended meanwhile (had it seen the flag, it failed as a timeout): keep the input.
        expired = false;
        return;
      }
      try {
        socket.shutdownInput();
      } catch (IOException ignored) {
        // Closed meanwhile: the read has ended either way.
      }
    }
  }

  /** Milliseconds to a deadline (0 for none), at least 1. */
  private static int remainingMillis(long untilNanos) throws SocketTimeoutException {
    if (untilNanos == 0) {
      return 0;
    }
    long remaining = (untilNanos - System.nanoTime()) / 1_000_000;
    if (remaining <= 0) {
      throw new SocketTimeoutException("deadline passed");
    }
    return (int) Math.min(Integer.MAX_VALUE, remaining);
  }

  private static SocketTimeoutException timedOut() {
    return new SocketTimeoutException("read timed out");
  }
}
