package dev.ferry.proxy.engine;

import dev.ferry.proxy.engine.io.Guard;
import dev.ferry.proxy.engine.upstream.UpstreamConnection;
import java.util.function.BooleanSupplier;

/**
 * The part of a client connection that other threads touch: whether it waits for a request or
 * serves one, whether the proxy asked it to close, whether it is parked (no task runs it), the
 * thread running it, and the upstream end of its tunnel. Each transition is one step under the
 * guard, so that the stopping proxy and the connection's own task agree on who closes and who
 * ends it; the methods say what the caller must do next.
 */
final class ConnectionState {
  private final Guard guard = new Guard();
  private boolean idle = true;
  /**
   * Written under the guard with the rest; volatile so that {@link #closeRequested} may read it
   * without the lock (a loop asks up to three times per request, and the answer may change the
   * moment the lock is let go either way).
   */
  private volatile boolean closeRequested;
  private boolean parked;
  /** A request's head is in and its body is being received whole: it is in flight. */
  private boolean receiving;
  /** Its thread waits briefly for a request (see {@link #beginBriefWait}). */
  private boolean briefWait;
  /** The stop's grace ended ({@link #cut}): no request is served from here on. */
  private boolean cut;
  /** {@link #cut} found a request waiting unserved, for {@link #forceClose} to report. */
  private boolean requestCut;
  private Thread runner;
  private UpstreamConnection tunnelPeer;

  /** What a close request asks of its caller. */
  enum CloseNow {
    /** Busy: the connection closes itself after its exchange. */
    LATER,
    /** Waiting for a request on a thread: close the socket, which ends the wait. */
    CLOSE_SOCKET,
    /** Parked, so no task will end it: end it here. */
    END
  }

  /** A task starts running the connection on {@code thread}: first, or resumed after parking or yielding. */
  void started(Thread thread) {
    guard.run(() -> {
      runner = thread;
      parked = false;
    });
  }

  /** The task on {@code thread} is over; the connection may already run on another thread. */
  void stopped(Thread thread) {
    guard.run(() -> {
      if (runner == thread) {
        runner = null;
      }
    });
  }

  /** The connection starts waiting for a request; false if it was asked to close instead. */
  boolean waitForRequest() {
    return guard.call(() -> {
      idle = true;
      // A connection resumed from the parker while its body arrives goes on with it.
      return !closeRequested || receiving;
    });
  }

  /**
   * The request's body is being received whole before its exchange: a stopping proxy lets it
   * arrive and be served within the grace period, as it does an exchange in progress.
   */
  void receivingBody() {
    guard.run(() -> receiving = true);
  }

  /** A request is coming; false if the connection was asked to close meanwhile. */
  boolean serveRequest() {
    return unlessCloseRequested(() -> {
      idle = false;
      receiving = false;
    });
  }

  /**
   * The connection's thread begins a wait for a request that ends by itself within a moment,
   * after which the thread looks for a close request itself; false if the proxy asked the
   * connection to close already, with nothing arriving. A stop leaves such a wait alone rather
   * than close the socket under it: the read may have taken the client's bytes from the kernel
   * and not yet have buffered them, where neither looks finds them, and a request the client
   * sent before the stop was closed unanswered (CI: a half head, parked or on its thread).
   * An event loop's read of a parked connection is such a wait too: the connection is no longer
   * parked from here, so a stop leaves it to the loop instead of ending it under the read (CI: a
   * half head the loop was reading when the stop looked, closed unanswered).
   */
  boolean beginBriefWait() {
    return unlessCloseRequested(() -> {
      parked = false;
      briefWait = true;
    });
  }

  /**
   * The brief wait is over. If the proxy asked the connection to close meanwhile, a request
   * that has come ({@code requestArrived}, asked only then) is let in within the grace like
   * one arriving when the stop looked. False if the proxy asked it to close and no request is
   * arriving: a thread finds that again when it would park or wait on; a loop ends the
   * connection at once.
   */
  boolean endBriefWait(BooleanSupplier requestArrived) {
    return guard.call(() -> {
      briefWait = false;
      if (closeRequested && !cut && idle && requestArrived.getAsBoolean()) {
        receiving = true;
      }
      return !closeRequested || receiving;
    });
  }

  /**
   * False if the proxy asked the connection to close with nothing arriving: its thread ends it
   * rather than wait on for a request. A stop that came during a brief wait left the socket open
   * for the thread to close; a wait begun after it (the brief wait ended with nothing, and no
   * parker takes the connection, or with blank lines only) would hold the stop for its grace.
   */
  boolean mayWaitOn() {
    return unlessCloseRequested(() -> { });
  }

  /**
   * The idle connection's thread skipped blank lines, which are no request (RFC 9112 §2.2);
   * false if the proxy asked the connection to close, which its thread then ends. A stop that
   * took those bytes, unread, for a request arriving takes the connection for idle after all:
   * waiting on for that request held the stop for its grace (a queued connection holding one
   * CRLF), and a stop that left the connection to its thread's brief wait is not waited out.
   */
  boolean blankLinesSkipped() {
    return guard.call(() -> {
      if (closeRequested) {
        receiving = false;
        return false;
      }
      return true;
    });
  }

  /** True once the proxy asked the connection to close. */
  boolean closeRequested() {
    return closeRequested;
  }

  /** Marks the waiting connection parked; false if it was asked to close instead. */
  boolean park() {
    return unlessCloseRequested(() -> parked = true);
  }

  /** Makes {@code change} unless the proxy asked the connection to close and no body is arriving. */
  private boolean unlessCloseRequested(Runnable change) {
    return guard.call(() -> {
      if (closeRequested && !receiving) {
        return false;
      }
      change.run();
      return true;
    });
  }

  /** The parker gave the connection up: its deadline passed, its channel broke, or it is readable. */
  void unpark() {
    guard.run(() -> parked = false);
  }

  /** Remembers the upstream end of the connection's tunnel, for {@link #forceClose()}. */
  void tunnel(UpstreamConnection peer) {
    guard.run(() -> tunnelPeer = peer);
  }

  /**
   * Asks the connection to close once it is not serving a request.
   *
   * @param requestArriving whether the client sent bytes no exchange has read (part of a head,
   *     or a whole request): waiting for the rest, parked or on its thread, the connection is not
   *     idle but receiving a request, let in within the grace like a body arriving (probe v31: a
   *     parked half head was closed unanswered where the same half head queued was served);
   *     asked under the guard, so that no brief wait begins between the look and the decision
   */
  CloseNow requestClose(BooleanSupplier requestArriving) {
    return guard.call(() -> {
      closeRequested = true;
      if (idle && !receiving && requestArriving.getAsBoolean()) {
        receiving = true;
      }
      if (receiving) {
        return CloseNow.LATER;
      }
      boolean wasParked = parked;
      parked = false;
      if (wasParked) {
        return CloseNow.END;
      }
      if (briefWait) {
        return CloseNow.LATER; // its thread ends it, or lets in what came, when the wait ends
      }
      // Queued for a thread (no task runs it, none parked it): its task serves a request the
      // client already sent (see the connection's awaitRequest), where closing the socket reset
      // it unanswered (probe l25: a stopping pool reset every queued request).
      return idle && runner != null ? CloseNow.CLOSE_SOCKET : CloseNow.LATER;
    });
  }

  /**
   * Serves a request that had arrived when the proxy asked the connection to close while it
   * was queued for a thread; its answer says {@code Connection: close}. False once the stop's
   * grace has ended ({@link #cut}): such a request was reported cut, or came too late.
   */
  boolean serveArrivedRequest() {
    return guard.call(() -> {
      if (cut) {
        return false;
      }
      idle = false;
      return true;
    });
  }

  /**
   * The grace is over: notes whether a request waits unserved, which {@link #forceClose} then
   * hands its caller to report as cut. That is a connection parked while its body arrives whole, or one that serves nothing with
   * bytes unread: {@code queued} says so of one no thread runs, {@code running} of one whose
   * thread has not read its request yet (the thread a stop freed can take up a queued connection
   * just before this, CI). Such a request is not served after all once counted here: the thread
   * finds the connection asked to close with nothing arriving, and ends it. From here no request
   * is let in or served on the connection, whatever its thread reads next.
   */
  void cut(BooleanSupplier queued, BooleanSupplier running) {
    guard.run(() -> {
      closeRequested = true;
      cut = true;
      if (parked) {
        requestCut = receiving;
        return;
      }
      requestCut = idle && (runner == null ? queued.getAsBoolean() : running.getAsBoolean());
      if (requestCut) {
        receiving = false;
      }
    });
  }

  /**
   * What {@link #forceClose()} leaves to its caller: the tunnel's upstream to close, whether to
   * end the connection, and whether {@link #cut} found a request waiting to report.
   */
  record Forced(UpstreamConnection tunnelPeer, boolean wasParked, boolean requestCut) {}

  /**
   * Asks the connection to close now and interrupts its thread, in case a filter blocks on
   * something other than a socket.
   */
  Forced forceClose() {
    return guard.call(() -> {
      boolean wasParked = parked;
      parked = false;
      closeRequested = true;
      if (runner != null) {
        runner.interrupt();
      }
      // Handed over once: the cut request is reported by one close.
      boolean cutNow = requestCut;
      requestCut = false;
      return new Forced(tunnelPeer, wasParked, cutNow);
    });
  }
}
