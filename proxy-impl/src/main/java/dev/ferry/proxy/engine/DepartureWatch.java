package dev.ferry.proxy.engine;

import dev.ferry.proxy.engine.io.ConnectionInput;
import dev.ferry.proxy.engine.upstream.ClientWatch;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * One client connection's {@link ClientWatch}: a wait for the upstream that passes a second is
 * handed by the {@link dev.ferry.proxy.engine.io.IoWatchdog} to the {@link IdleParker}, whose
 * selector watches the client's socket while the exchange's thread stays blocked on the
 * upstream. When the socket turns readable, its client has closed or reset the connection, or
 * sent something: a socket with nothing to read is a client gone; bytes are read into the
 * connection's buffer as between timed waits ({@link ClientConnection#clientGone}), which
 * tells a pipelined request from a TLS {@code close_notify}. A client gone has the upstream's
 * input ended, which wakes the exchange to be abandoned; a client that sent bytes of a request
 * is there, and the watch is over. Bytes that tell neither (a TLS record that is no data, such as
 * the {@code user_canceled} alert a Java client sends before its {@code close_notify}, or part
 * of a record) leave the socket watched for what comes next.
 *
 * <p>Before, only a crowded pool or half-busy platform threads had the wait go a second at a
 * time (a timed read costs about a fifth more CPU per request than a blocking one), so on an
 * uncrowded proxy a client that left held its thread, its upstream connection and a CLOSE-WAIT
 * socket until the upstream timeout (soak probe F1). The watch costs an answer that comes within
 * the second a few volatile writes.
 *
 * <p>States: OFF, ARMED (by the exchange's thread), WATCHED (taken by the watchdog, queued for
 * the parker), DONE (the parker has put the socket back in blocking mode). The exchange's thread
 * does not touch its client's socket until the watch is DONE or was never taken: the socket is in
 * non-blocking mode while the selector has it.
 */
final class DepartureWatch implements ClientWatch {
  /** How long a wait goes before the client is watched: nginx looks at once, for free. */
  static final long AFTER_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final int OFF = 0;
  private static final int ARMED = 1;
  private static final int WATCHED = 2;
  private static final int DONE = 3;
  /** How long to wait for the parker at a time, before checking that it still runs. */
  private static final long SETTLE_SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private final SocketChannel channel;
  private final IdleParker parker;
  private final BooleanSupplier clientGone;
  private final BooleanSupplier holdsInput;
  private final AtomicInteger state = new AtomicInteger(OFF);
  private final Runnable onLongWait = this::waitedLong;
  /** Written before ARMED, read after WATCHED is taken: published by {@link #state}. */
  private ConnectionInput upstream;
  /** The exchange's thread, once it waits for the parker to be DONE. */
  private volatile Thread waiter;
  /** Set by the exchange's thread once it wants the socket back. */
  private volatile boolean reclaimed;
  private volatile boolean gone;
  /** The parker's own: the key while the selector has the socket. */
  private SelectionKey key;

  /** What a look at a socket that turned readable found. */
  enum Look {
    /** The client closed or reset the connection. */
    LEFT,
    /** It sent bytes of a request: it is there. */
    STAYED,
    /** What it sent tells neither: watch on. */
    UNTOLD
  }

  /**
   * @param clientGone reads what the client sent and tells whether it left, on a blocking socket
   * @param holdsInput whether bytes the client sent wait to be read as a request
   */
  DepartureWatch(SocketChannel channel, IdleParker parker, BooleanSupplier clientGone,
      BooleanSupplier holdsInput) {
    this.channel = channel;
    this.parker = parker;
    this.clientGone = clientGone;
    this.holdsInput = holdsInput;
  }

  @Override
  public boolean arm(ConnectionInput upstream) {
    this.upstream = upstream;
    state.set(ARMED);
    if (!upstream.onLongWait(onLongWait, System.nanoTime() + AFTER_NANOS)) {
      state.set(OFF);
      this.upstream = null;
      return false;
    }
    return true;
  }

  /** On the watchdog's thread: the wait has passed its second. */
  private void waitedLong() {
    if (state.compareAndSet(ARMED, WATCHED)) {
      parker.watch(this);
    }
  }

  @Override
  public boolean disarm() throws IOException {
    upstream.cancelLongWait();
    boolean left = false;
    if (!state.compareAndSet(ARMED, OFF)) {
      waiter = Thread.currentThread();
      reclaimed = true;
      parker.watch(this);
      try {
        awaitSettled();
        left = gone;
      } finally {
        waiter = null;
        reclaimed = false;
        gone = false;
        state.set(OFF);
      }
    }
    upstream = null;
    return left;
  }

  private void awaitSettled() throws IOException {
    while (state.get() != DONE) {
      LockSupport.parkNanos(this, SETTLE_SLICE_NANOS);
      if (state.get() == DONE) {
        return;
      }
      if (!parker.running()) {
        // The proxy stops: its selector is closed, which let go of the socket.
        restoreBlocking();
        return;
      }
      if (Thread.currentThread().isInterrupted()) {
        restoreBlocking();
        throw new InterruptedIOException("stopped while the client's socket was watched");
      }
    }
  }

  private void restoreBlocking() {
    try {
      channel.configureBlocking(true);
    } catch (IOException | RuntimeException e) {
      // Still registered or closed: unusable either way, and closing it ends the exchange.
      try {
        channel.close();
      } catch (IOException ignored) {
        // Nothing left to release.
      }
    }
  }

  // The parker's side, on its thread only.

  /** True while the watch waits for the parker: taken, not yet DONE. */
  boolean pending() {
    return state.get() == WATCHED;
  }

  boolean reclaimed() {
    return reclaimed;
  }

  SocketChannel channel() {
    return channel;
  }

  SelectionKey key() {
    return key;
  }

  void key(SelectionKey key) {
    this.key = key;
  }

  /**
   * What the client of a socket that turned readable (back in blocking mode) did. The
   * exchange's thread is blocked on the upstream meanwhile, and takes the connection back only
   * once the watch is DONE, so the connection's input is this thread's to read.
   */
  Look look() {
    try {
      if (channel.socket().getInputStream().available() == 0) {
        return Look.LEFT; // readable with nothing to read: the end, or a reset
      }
    } catch (IOException e) {
      return Look.LEFT;
    }
    if (clientGone.getAsBoolean()) {
      return Look.LEFT;
    }
    return holdsInput.getAsBoolean() ? Look.STAYED : Look.UNTOLD;
  }

  /**
   * The watch is over, the socket back in blocking mode (or closed); {@code clientGone} ends the
   * upstream's input, which wakes the exchange waiting on it.
   */
  void settle(boolean clientGone) {
    key = null;
    if (clientGone) {
      gone = true;
      upstream.abandon();
    }
    state.set(DONE);
    Thread waiting = waiter;
    if (waiting != null) {
      LockSupport.unpark(waiting);
    }
  }
}
