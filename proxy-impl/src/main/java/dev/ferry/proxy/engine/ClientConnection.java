package dev.ferry.proxy.engine;

import dev.ferry.proxy.Headers;
import dev.ferry.proxy.ProxyConfig;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.engine.filter.BuiltInFilters;
import dev.ferry.proxy.engine.http1.HeadParser;
import dev.ferry.proxy.engine.http1.HeadScan;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.LogValues;
import dev.ferry.proxy.engine.http1.ProxyFailure;
import dev.ferry.proxy.engine.http1.RequestHead;
import dev.ferry.proxy.engine.io.ConnectionBuffers;
import dev.ferry.proxy.engine.io.ConnectionInput;
import dev.ferry.proxy.engine.io.ConnectionOutput;
import dev.ferry.proxy.engine.io.LingeringClose;
import dev.ferry.proxy.engine.io.SpoolWriteException;
import dev.ferry.proxy.engine.tls.ClientCertFields;
import dev.ferry.proxy.engine.tls.EngineSocket;
import dev.ferry.proxy.engine.tls.TlsRecords;
import dev.ferry.proxy.engine.tunnel.Tunnel;
import dev.ferry.proxy.engine.tunnel.TunnelRelay;
import dev.ferry.proxy.engine.upstream.HostNames;
import dev.ferry.proxy.engine.upstream.UpstreamConnection;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * One client connection: a task that loops over the connection's requests (keep-alive,
 * pipelining) until the client leaves, an error closes it, or the proxy stops.
 *
 * <p>Shutdown: the connection is interruptible only while it waits for the next request
 * (Helidon's {@code InterruptableTask.canInterrupt()}): {@link #requestClose()} closes an idle
 * connection at once and makes a busy one close after its current exchange.
 *
 * <p>Size: over 600 lines because it owns the socket's whole life, and its stages share that
 * state: the wait for a request (quick wait, parking, turns in the pool), the exchanges, the
 * hand-over of the lingering close, tunnels and the start of interception. {@link RequestArrival},
 * {@link ConnectionState}, {@link ClientLinger} and {@link IdleParker} already hold what could
 * leave it.
 */
final class ClientConnection implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(ClientConnection.class);
  private static final int BUFFER_SIZE = ConnectionBuffers.SIZE;
  private static final long QUICK_WAIT_MILLIS = 200;
  /** Busy keep-alive clients send at once; past this an idle connection gives its thread back. */
  private static final long QUICK_WAIT_PARKING_MILLIS = 50;
  /** How long a connection keeps its pool thread while others wait for one; see awaitData. */
  private static final long TURN_NANOS = 20_000_000L;
  /** A wait for a thread shorter than this is not looked into (it would cost a system call). */
  private static final long QUEUE_WAIT_NANOS = 1_000_000L;
  private static final byte[] CONTINUE =
      "HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);

  private final RealProxyServer server;
  private final ProxyConfig config;
  private Socket socket;
  private final long id;
  private ConnectionInput in;
  private ConnectionOutput out;
  /** Made on the first exchange that forwards a request; see {@link #departureWatch}. */
  private DepartureWatch departureWatch;
  private ResponseSender sender;
  /** The CONNECT target whose decrypted requests this connection carries; null otherwise. */
  private String interceptAuthority;
  /** The tunnel to run once the current exchange ends (see {@link #tunnelAfterExchange}). */
  private UpstreamConnection tunnelNext;
  /** A tunnel on a TLS socket, running on threads: a stopping proxy closes it if at rest. */
  private volatile Tunnel blockingTunnel;
  private String interceptCredentials;
  /** Set from an intercepted CONNECT's 200 until its tunnel's first bytes arrive. */
  private volatile PendingIntercept pendingIntercept;
  private boolean tls;
  /** The TLS listener's session with this client; null on a plain or intercepted connection. */
  private EngineSocket listenerTls;
  private ClientCertFields clientCert;
  private final InetSocketAddress clientAddress;
  /** {@link #clientAddressText()}, once made (racy single check: any thread may make the same String). */
  private String clientAddressText;
  private final InetSocketAddress localAddress;
  private final ConnectionState state = new ConnectionState();
  /** When the connection was accepted, or its intercepted TLS session began. */
  private long acceptedNanos = System.nanoTime();
  /** When the wait for the next request began, kept across parking and turns; 0 while serving. */
  private long idleSinceNanos;
  /** The next request's head and awaited body as they arrive, kept across parking. */
  private final RequestArrival arrival;
  /** How the body of the exchange under way was awaited; see ClientBody.Awaited. */
  private ClientBody.Awaited awaitedBody = ClientBody.Awaited.NONE;
  private final AtomicBoolean ended = new AtomicBoolean();
  private final ClientLinger linger = new ClientLinger();
  /** Set when the connection must end with a reset rather than an orderly close. */
  private volatile boolean reset;
  /** Its loop ends it ({@link #endOnLoop}): the loop closes the socket, at the end of its turn. */
  private boolean endingOnLoop;
  private volatile long parkedDeadlineNanos;
  /** When the request the loop serves began to arrive, if it came in pieces; 0 otherwise. */
  private long loopFirstByteNanos;
  /** Parked at accept, for want of a thread, and not run yet: refused if its request finds none. */
  private volatile boolean parkedAtAccept;
  /** When this connection's task last started on a thread. */
  private long runningSinceNanos;
  /**
   * When the connection last went to the executor for a thread: accepted, woken on the idle
   * parker by its client's bytes, or put back for its turn.
   */
  private volatile long queuedNanos = acceptedNanos;
  /**
   * When the request this turn found waiting was in already, {@link #queuedNanos}; 0 if none
   * was. Its latency counts from then, the wait for a thread included (README: from its first
   * byte): timed from when a thread got to it, a saturated pool's queue never showed in latency.
   */
  private long readySinceNanos;
  /**
   * Set when the tunnel relay, or a tunnel's own threads, took the connection over: they end it,
   * not run().
   */
  private boolean relayed;
  /** Set once the connection became a tunnel, which may use its streams from another thread. */
  private boolean tunneled;
  /**
   * Whether the last exchange served on a thread was one its loop would have served itself
   * ({@link LoopEligibility#wouldServe}): only then does the connection wait on its loop again.
   */
  private boolean lastLoopsKind;
  /** The connection's name in the MDC ({@link ProxyServer#MDC_CONNECTION}), made at its first turn. */
  private String logName;
  private int sequence;

  ClientConnection(RealProxyServer server, Socket socket, long id) throws IOException {
    this.server = server;
    this.config = server.configuration();
    // Inside an intercepted session a request may go on the CONNECT's credentials: only the
    // exchange can tell.
    this.arrival = new RequestArrival(config, server.requestBuffers(), server.requestSpool(),
        (bytes, from, to) -> interceptAuthority == null && BuiltInFilters.refusesCredentials(
            server.pipeline().filters(), name -> HeadScan.fieldValue(bytes, from, to, name)));
    this.socket = socket;
    this.id = id;
    useStreams(socket);
    this.clientAddress = (InetSocketAddress) socket.getRemoteSocketAddress();
    this.localAddress = (InetSocketAddress) socket.getLocalSocketAddress();
  }

  private void useStreams(Socket over) throws IOException {
    if (in != null) {
      in.release();
    }
    this.socket = over;
    this.in = new ConnectionInput(over, BUFFER_SIZE, server.watchdog());
    this.out = new ConnectionOutput(over, BUFFER_SIZE, server.watchdog());
    this.sender = new ResponseSender(out);
  }

  /** The CONNECT target ({@code host:port}) of an intercepted session; null otherwise. */
  String interceptAuthority() {
    return interceptAuthority;
  }

  /** The {@code Proxy-Authorization} of an intercepted session's CONNECT; null otherwise. */
  String interceptCredentials() {
    return interceptCredentials;
  }

  /** True if the client speaks TLS to the proxy (a TLS listener or an intercepted session). */
  boolean isTls() {
    return tls;
  }

  /**
   * TLS termination on the listener. The handshake is what the wait for the first request reads
   * first, so it is bounded by the request-header deadline counted from accept, and a client
   * that stalls in it is parked without a thread like one that stalls in its head.
   */
  private void terminateTls() throws IOException {
    listenerTls = server.serverTls().accept(socket, new byte[0]);
    useStreams(listenerTls);
    tls = true;
  }

  /**
   * The client certificate the TLS listener verified, for upstreams (RFC 9440); read once, when
   * the first request needs it, since the handshake is over by then.
   */
  ClientCertFields clientCertFields() {
    if (clientCert == null) {
      clientCert = listenerTls == null ? ClientCertFields.NONE : ClientCertFields.of(listenerTls.getSession());
    }
    return clientCert;
  }

  /**
   * After a CONNECT to an intercepted host was answered 200: the connection waits for the
   * tunnel's first bytes like it waits for a request (briefly, then parked without a thread,
   * bounded by the request-header timeout from now), and they decide (see
   * {@link #beginIntercepted}). Returns true: the connection goes on.
   *
   * @param tunnel the connection to the origin, for a client that turns out not to speak TLS;
   *     null when a filter answered the CONNECT (such a client's connection then ends)
   * @param credentials the CONNECT's {@code Proxy-Authorization}, null without one
   */
  boolean intercept(UpstreamConnection tunnel, String host, int port, String credentials) {
    state.tunnel(tunnel);
    pendingIntercept = new PendingIntercept(tunnel, host, port, credentials);
    // The tunnel's first bytes, the handshake and the session's first request get the
    // request-header timeout from here, as on a new connection.
    sequence = 0;
    acceptedNanos = System.nanoTime();
    return true;
  }

  /**
   * The first bytes in an intercepted CONNECT's tunnel have arrived. A TLS ClientHello: the
   * client's TLS is terminated with a leaf certificate for the host, and this connection carries
   * the decrypted session, whose requests are served like plain ones (to the origin over verified
   * TLS) and counted from 1 again, and which handshakes, waits, parks and takes turns for a thread
   * like any TLS connection: true. Anything else is relayed through the tunnel as it is: false.
   */
  private boolean beginIntercepted() throws IOException {
    PendingIntercept pending = pendingIntercept;
    byte[] first = in.peekBuffered();
    // A ClientHello split after its first byte or two (a slow link, or a client slipping past
    // inspection on purpose) is one all the same: the decision waits for three bytes (probe i14).
    long deadline = acceptedNanos + config.requestHeaderTimeout().toNanos();
    while (first.length < 3 && in.makeRoom(first.length + 3, null)) {
      long left = (deadline - System.nanoTime()) / 1_000_000;
      if (left <= 0) {
        throw new SocketTimeoutException("tunnel's first bytes not received in time");
      }
      if (!in.awaitMore(millis(left))) {
        break;
      }
      first = in.peekBuffered();
    }
    // Decided: from here the tunnel is relayed or closed below. Until now it was the pending
    // intercept's, which end() closes: cleared before the wait, a tunnel whose first bytes never
    // came was left open, an upstream socket per stalled client (probe resources2 F2).
    pendingIntercept = null;
    if (!TlsRecords.looksLikeClientHello(first, first.length)) {
      if (pending.tunnel() != null) {
        runTunnel(pending.tunnel());
      } else {
        log.debug("intercept_not_tls conn={} target={}:{} (no tunnel to relay it)", id, pending.host(), pending.port());
      }
      return false;
    }
    if (pending.tunnel() != null) {
      pending.tunnel().close();
    }
    state.tunnel(null);
    EngineSocket session = server.interception().accept(socket, in.takeBuffered(), pending.host());
    in.unwatch();
    useStreams(session);
    tls = true;
    String host = pending.host();
    interceptAuthority = (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + pending.port();
    interceptCredentials = pending.credentials();
    log.debug("tls_intercepted conn={} target={}", id, interceptAuthority);
    return true;
  }

  /** An intercepted CONNECT answered 200, waiting for the tunnel's first bytes; tunnel may be null. */
  private record PendingIntercept(UpstreamConnection tunnel, String host, int port, String credentials) {}

  /** The proxy whose connection the current thread serves, if it serves one. */
  private static final ThreadLocal<RealProxyServer> SERVING = new ThreadLocal<>();

  /** True on a thread serving one of {@code server}'s connections (a filter's, a listener's). */
  static boolean servesFor(RealProxyServer server) {
    return SERVING.get() == server;
  }

  @Override
  public void run() {
    Thread thread = Thread.currentThread();
    SERVING.set(server);
    state.started(thread);
    parkedAtAccept = false;
    runningSinceNanos = System.nanoTime();
    readySinceNanos = requestWaitedForThread() ? queuedNanos : 0;
    MDC.put(ProxyServer.MDC_CONNECTION, logName());
    boolean parkedNow = false;
    try {
      if (server.serverTls() != null && !tls) {
        terminateTls();
      }
      while (true) {
        boolean tunnelStart = pendingIntercept != null;
        Wait wait = awaitRequest(sequence == 0);
        if (wait == Wait.PARKED || wait == Wait.YIELDED) {
          parkedNow = true;
          return;
        }
        if (wait == Wait.END || !(tunnelStart ? beginIntercepted() : exchange(++sequence))) {
          break;
        }
      }
    } catch (IOException e) {
      log.debug("connection_closed conn={} error={}", id, LogValues.quoted(e.toString()));
    } catch (RuntimeException | Error e) {
      crashed(e);
    } finally {
      state.stopped(thread);
      if (!parkedNow && !relayed && !(linger.asked() && lingerHandedOver())) {
        end();
        recycleBuffers();
      }
      SERVING.remove();
      MDC.remove(ProxyServer.MDC_CONNECTION);
    }
  }

  /**
   * Whether this turn began with request bytes that came while the connection waited over a
   * millisecond for a thread: under TLS, records still in the kernel too (probe accounting F1).
   * Not a TLS handshake still to run, nor an intercepted tunnel's start: their bytes are no request.
   */
  private boolean requestWaitedForThread() {
    return runningSinceNanos - queuedNanos > QUEUE_WAIT_NANOS && pendingIntercept == null
        && (tls || server.serverTls() == null) && UnreadInput.arrived(socket, in);
  }

  /**
   * Logs a failure no stage handled. An OutOfMemoryError goes on to end the thread, so that the
   * JVM's handler for it (the CLI's exits, README) sees it: caught here, a proxy whose heap a
   * flood had spent went on serving, or failing to (probe resources F2).
   */
  private void crashed(Throwable e) {
    log.error("connection_crashed conn={} client={}", id, clientText(), e);
    if (e instanceof OutOfMemoryError outOfMemory) {
      throw outOfMemory;
    }
  }

  /** The exchange just served on this thread was (or was not) of the kind its loop serves. */
  void servedLoopsKind(boolean loopsKind) {
    lastLoopsKind = loopsKind;
  }

  /**
   * The name a turn puts in the MDC for its log lines. Not the thread's: renaming a running
   * platform thread is a system call ({@code prctl}), one per connection: 2.8 % of the CPU
   * samples of clients that open a connection per request ({@code CLOSE=1 profile.sh}), where
   * the MDC's put and remove take 0.4 %.
   */
  String logName() {
    String name = logName;
    if (name == null) {
      name = "ferry-conn-" + localAddress.getPort() + "-" + id;
      logName = name;
    }
    return name;
  }

  /**
   * Gives the connection's buffers back to their pool, from the thread that ended it, which was
   * their last user; not after a tunnel, whose other direction may have run on a thread of its
   * own (an interrupted tunnel returns without waiting for it).
   */
  private void recycleBuffers() {
    if (!tunneled) {
      in.recycle();
      out.recycle();
    }
  }

  /**
   * The lingering close: handed to the idle parker, which discards what the client still sends
   * without a thread (a burst of rejected uploads would otherwise hold a pool thread each for
   * the lingering second) and then ends the connection: true. Where the connection cannot park,
   * or the proxy asked it to close (stopping, within its grace period), it runs on this thread
   * instead: false, and the caller ends the connection.
   */
  private boolean lingerHandedOver() {
    // What the client still sends is drained from the socket; a body it sent to disk is dropped.
    in.discardSpool();
    try {
      boolean blind = linger.begin(socket, out);
      IdleParker parker = parker();
      if (parker != null && state.park()) {
        in.unwatch();
        parkedDeadlineNanos = System.nanoTime() + LingeringClose.LINGER_NANOS;
        linger.handedToParker(blind);
        parker.park(this);
        return true;
      }
      linger.drainHere(in);
    } catch (IOException e) {
      log.debug("lingering_close_ended conn={} error={}", id, LogValues.quoted(e.toString()));
    }
    return false;
  }

  /** The connection's lingering close, which the idle parker drains once handed over. */
  ClientLinger linger() {
    return linger;
  }

  /** The parker ends a lingering connection: its close is over, or its second has passed. */
  void endLinger() {
    state.unpark();
    end();
  }

  /**
   * What waiting for the next request came to. READY: a request is coming. PARKED: handed to the idle parker. YIELDED: put back in the pool's
   * queue for another turn. END: the connection is over. After PARKED or YIELDED the task ends
   * and another one resumes the connection.
   */
  private enum Wait { READY, PARKED, YIELDED, END }

  /** Closes the socket and gives the connection's slot back to the proxy, exactly once. */
  private void end() {
    closeSocket();
    in.release();
    PendingIntercept pending = pendingIntercept;
    if (pending != null && pending.tunnel() != null) {
      pending.tunnel().close();
    }
    if (ended.compareAndSet(false, true)) {
      server.unregister(this);
    }
  }

  /** The channel a parked connection waits on (beneath TLS); null for sockets made without one. */
  SocketChannel channel() {
    return socket instanceof EngineSocket session ? session.channelBeneath() : socket.getChannel();
  }

  /** When a parked connection gives up waiting: the idle (or first-request header) deadline. */
  long parkedDeadlineNanos() {
    return parkedDeadlineNanos;
  }

  /**
   * Parks a connection no task has run yet, which the executor had no room for (a burst of
   * connects): like a client that connects and says nothing, it waits on the selector, until
   * the request-header timeout from accept, and takes a thread once it sends something. False
   * if it cannot be parked (no parker, or the proxy stops).
   */
  boolean parkAtAccept() {
    IdleParker parker = parker();
    if (parker == null) {
      return false;
    }
    parkedDeadlineNanos = acceptedNanos + config.requestHeaderTimeout().toNanos();
    parkedAtAccept = true;
    if (!state.park()) {
      return false;
    }
    parker.park(this);
    return true;
  }

  /** True while parked at accept and never run (see {@link #parkAtAccept}). */
  boolean parkedAtAccept() {
    return parkedAtAccept;
  }

  /** A connection parked at accept whose first bytes found no thread: 503, as at accept. */
  void refuseOverloaded() {
    state.unpark();
    if (ended.get()) {
      return; // closed meanwhile (the proxy stops): nothing to answer
    }
    Overload.refuse(server, socket, id, "executor_full");
    end();
  }

  /** The parker let the deadline pass, or the channel broke while parked. */
  void expireParked() {
    log.debug("connection_idle_timeout conn={} parked=true", id);
    handshakeEnded(new SocketTimeoutException("timed out"));
    state.unpark();
    end();
  }

  /**
   * Waits for the first byte of the next request: READY, END if the connection should end,
   * PARKED when it was handed to the idle parker, or YIELDED when it went back to the pool's
   * queue (then its task ends and another resumes it). The idle timeout counts from the end of
   * the last exchange, across parking: bytes that decrypt to nothing (a TLS record trickled in a
   * byte at a time wakes a parked connection with each byte) do not restart it.
   */
  private Wait awaitRequest(boolean first) throws IOException {
    if (!state.waitForRequest()) {
      // Asked to close while queued for a thread (or while its last exchange ended): a request
      // the client already sent is served (its answer saying Connection: close), not reset with
      // the connection (probe l25); blank lines are none, and waiting for the request they do
      // not start held the stop for its grace (probe v32).
      if (UnreadInput.waitsOnOwnThread(socket, in) && state.serveArrivedRequest()) {
        return Wait.READY;
      }
      return Wait.END;
    }
    in.trimBuffer();
    Wait wait;
    try {
      in.unspoolRest();
      wait = awaitData(first ? firstRequestWaitMillis() : idleWaitMillis(), first);
      while (wait == Wait.READY && in.hasBuffered() && UnreadInput.blankLinesOnly(in)) {
        // Blank lines before a request line are ignored (RFC 9112 §2.2; some clients send one
        // after a POST body): the connection is still idle, under its idle deadline, not in a
        // head under the header timeout, which answered it an unasked 408 (probe lc1).
        in.skip(in.available());
        if (!state.blankLinesSkipped()) {
          return Wait.END;
        }
        wait = awaitData(first ? firstRequestWaitMillis() : idleWaitMillis(), first);
      }
      IdleParker parker = parker();
      if (wait == Wait.READY && parker != null) {
        // An intercepted tunnel's bytes are no head: only its first three are waited for.
        wait = pendingIntercept == null ? awaitHead(parker) : awaitTunnelStart(parker);
      }
    } catch (SocketTimeoutException e) {
      log.debug("connection_idle_timeout conn={} first={}", id, first);
      handshakeEnded(e);
      return Wait.END;
    } catch (IOException e) {
      handshakeEnded(e);
      return Wait.END;
    }
    if (wait != Wait.READY) {
      return wait;
    }
    idleSinceNanos = 0;
    return state.serveRequest() ? Wait.READY : Wait.END;
  }

  /**
   * Logs and counts a TLS handshake the client began and that ended with {@code cause} (failed,
   * timed out, or the client left); nothing for a connection past its handshake or one that
   * never sent a byte.
   */
  private void handshakeEnded(IOException cause) {
    if (socket instanceof EngineSocket session && session.handshakeBegun() && !session.handshaken()) {
      TlsHandshakes.failed(server, clientAddress, id, cause, acceptedNanos, interceptAuthority != null);
    }
  }

  private long idleWaitMillis() {
    if (idleSinceNanos == 0) {
      idleSinceNanos = System.nanoTime();
    }
    return Math.max(1, (idleSinceNanos + config.idleTimeout().toNanos() - System.nanoTime()) / 1_000_000);
  }

  /**
   * A request has begun: waits briefly for the rest of its head, and of a body it declares that
   * is awaited whole, so that a client sending them slowly (slowloris, slow uploads) is parked
   * between its bytes instead of holding a thread until the request-header timeout or for as
   * long as the minimum body rate allows. READY once {@link RequestArrival} says so, or its
   * deadline has passed (the exchange then answers 408, or reads the rest of the body); PARKED
   * while the client is quiet; END if it leaves.
   */
  private Wait awaitHead(IdleParker parker) throws IOException {
    // Bytes buffered already came with the last read, or before it: a pipelined request's wait
    // behind the one before it counts, as a wait for a thread does (readySinceNanos).
    long arrived = readySinceNanos != 0 ? readySinceNanos : in.hasBuffered() ? in.lastReadNanos() : 0;
    arrival.headStarted(sequence == 0 ? acceptedNanos : System.nanoTime(), arrived);
    readySinceNanos = 0;
    while (true) {
      if (UnreadInput.blankLinesOnly(in) && state.closeRequested()) {
        // Asked to close while the kernel held bytes, which turned out blank lines: idle after all.
        return Wait.END;
      }
      long deadlineNanos = arrival.nextDeadline(in);
      if (deadlineNanos == RequestArrival.READY) {
        return Wait.READY;
      }
      if (arrival.awaitingBody()) {
        state.receivingBody();
      }
      long now = System.nanoTime();
      long leftMillis = (deadlineNanos - now) / 1_000_000;
      if (leftMillis <= 0) {
        arrival.deadlinePassed();
        return Wait.READY;
      }
      if (now - runningSinceNanos > TURN_NANOS && server.executor().othersWaiting()) {
        // A client trickling its request a byte inside each quick wait would keep this thread
        // for as long as its deadlines allow: others waiting for one get it after a turn.
        out.release();
        return park(parker, deadlineNanos);
      }
      try {
        if (!in.awaitMore(millis(Math.min(QUICK_WAIT_PARKING_MILLIS, leftMillis)))) {
          return arrival.clientLeft() ? Wait.READY : Wait.END;
        }
      } catch (SocketTimeoutException quiet) {
        out.release();
        return park(parker, deadlineNanos);
      } catch (SpoolWriteException e) {
        server.requestSpool().writeFailed(e);
        arrival.spoolFailed();
        return Wait.READY;
      } catch (IOException reset) {
        if (arrival.clientLeft()) {
          return Wait.READY;
        }
        throw reset;
      }
      arrival.arrived(System.nanoTime());
    }
  }

  /**
   * An intercepted CONNECT's tunnel has begun: waits briefly for the three bytes that tell a
   * ClientHello from other traffic ({@link #beginIntercepted}), parking while the client is
   * quiet, as for a slow head: a client that sent a byte or two and stalled held a thread until
   * the request-header timeout, and 250 of them stalled a pool of 200 (probe resources2 F1).
   * READY once they are in, the deadline has passed, or the client left (the decision is then
   * made with what came); PARKED while the client is quiet.
   */
  private Wait awaitTunnelStart(IdleParker parker) throws IOException {
    long deadlineNanos = acceptedNanos + config.requestHeaderTimeout().toNanos();
    while (in.available() < 3 && in.makeRoom(in.available() + 3, null)) {
      long leftMillis = (deadlineNanos - System.nanoTime()) / 1_000_000;
      if (leftMillis <= 0) {
        return Wait.READY;
      }
      try {
        if (!in.awaitMore(millis(Math.min(QUICK_WAIT_PARKING_MILLIS, leftMillis)))) {
          return Wait.READY;
        }
      } catch (SocketTimeoutException quiet) {
        out.release();
        return park(parker, deadlineNanos);
      }
    }
    return Wait.READY;
  }

  /**
   * True while a parked connection holds part of a request head: at its deadline it is answered
   * 408 (handed back to the executor), not closed quietly like an idle one.
   */
  boolean holdsPartialHead() {
    return in.hasBuffered();
  }

  /**
   * A new connection gets the request-header timeout, counted from accept, for its whole first
   * head: a client that connects and sends nothing holds its task no longer than that.
   */
  private long firstRequestWaitMillis() {
    long remaining = acceptedNanos + config.requestHeaderTimeout().toNanos() - System.nanoTime();
    return Math.max(1, remaining / 1_000_000);
  }

  /**
   * A connection that has just been served waits on its own thread in one blocking read while
   * the executor lets it hold one (busy clients send their next request at once). Otherwise:
   * waits briefly with the buffers kept, then drops them and is parked, or waits out the rest
   * holding almost no memory. A connection that has kept its pool thread for a turn while other
   * connections wait for one goes to the back of the queue instead, so that the threads go round
   * all busy connections (a busy client always sends its next request within the short wait).
   */
  private Wait awaitData(long idleMillis, boolean first) throws IOException {
    // A TLS connection (terminated or intercepted) parks like a plain one, on the channel beneath
    // its EngineSocket: that unwraps every whole record it has before a read waits, so once a
    // timed read has found no decrypted bytes, whatever comes next is still in the kernel, where
    // the selector sees it.
    EventLoop loop = server.eventLoop(id);
    if (loop != null && !first && lastLoopsKind && !in.hasBuffered() && LoopEligibility.mayServe(server)) {
      // Served here though its loop could have served it (a head in pieces, no pool connection
      // free, a hit after a miss), it waits for the next request on the loop, which serves what
      // it can itself. One whose requests are the threads' anyway (POSTs, misses, a pool over
      // https) stays: a hand-over per request cost a third more CPU.
      out.release();
      in.unwatch();
      loop.take(this);
      return Wait.PARKED;
    }
    IdleParker parker = parker();
    if (server.executor().othersWaiting()
        && System.nanoTime() - runningSinceNanos > TURN_NANOS && requeue()) {
      return Wait.YIELDED;
    }
    if (parker != null && !first && server.executor().holdIdle()) {
      try {
        return in.awaitDataUntil(System.nanoTime() + idleMillis * 1_000_000L) ? Wait.READY : Wait.END;
      } finally {
        server.executor().releaseIdle();
      }
    }
    // A platform thread is worth freeing soon; a virtual thread is cheap to keep a little longer.
    long quickMillis = Math.min(parker != null && !server.executor().isVirtual()
        ? QUICK_WAIT_PARKING_MILLIS : QUICK_WAIT_MILLIS, idleMillis);
    long startNanos = System.nanoTime();
    if (!state.beginBriefWait()) {
      return Wait.END;
    }
    try {
      return in.awaitData(millis(quickMillis), false) ? Wait.READY : Wait.END;
    } catch (SocketTimeoutException e) {
      if (idleMillis <= quickMillis) {
        throw e;
      }
    } finally {
      state.endBriefWait(this::requestBuffered);
    }
    out.release();
    if (parker != null) {
      return park(parker, startNanos + idleMillis * 1_000_000L);
    }
    if (!state.mayWaitOn()) {
      return Wait.END;
    }
    return in.awaitData(millis(idleMillis - quickMillis), true) ? Wait.READY : Wait.END;
  }

  /** The idle parker, for a connection that can park (one with a channel beneath). */
  private IdleParker parker() {
    return channel() == null ? null : server.idleParker();
  }

  /**
   * Hands the idle connection to the parker, unless the proxy asked it to close meanwhile. A TLS
   * session that already holds more of the client's bytes (records that came with the last
   * one read) is not parked: the selector would not see them, and the connection would wait
   * for its deadline with its request in hand. It takes another turn in the queue instead, or,
   * with the queue full, goes on reading (READY).
   */
  private Wait park(IdleParker parker, long deadlineNanos) {
    if (socket instanceof EngineSocket session && session.holdsReadableInput()) {
      return requeue() ? Wait.YIELDED : Wait.READY;
    }
    in.dropBuffer();
    in.unwatch();
    if (socket instanceof EngineSocket session) {
      session.trim();
    }
    parkedDeadlineNanos = deadlineNanos;
    if (!state.park()) {
      return Wait.END;
    }
    parker.park(this);
    return Wait.PARKED;
  }

  private boolean exchange(int sequence) throws IOException {
    long now = System.nanoTime();
    boolean headRefused = arrival.takeHeadRefused();
    long headStart = arrival.takeHeadStart(sequence == 1 ? acceptedNanos : now);
    long startNanos = arrival.takeFirstByte(now);
    Instant startTime = startNanos == now ? Instant.now() : Instant.now().minusNanos(now - startNanos);
    awaitedBody = arrival.takeBody(now);
    in.endSpooling();
    in.deadline(headStart + config.requestHeaderTimeout().toNanos());
    RequestHead head;
    HeadParser parser = new HeadParser(in, config.maxRequestLineBytes(), config.maxHeaderBytes(),
        config.maxHeaderCount());
    if (headRefused) {
      RejectedHead.answer(server, this, new HttpFailureException(ProxyFailure.OVERLOADED,
          "no memory left for large request heads"), startTime, startNanos, parser);
      return false;
    }
    try {
      head = parser.readRequest();
    } catch (SocketTimeoutException e) {
      RejectedHead.answer(server, this, new HttpFailureException(ProxyFailure.REQUEST_TIMEOUT,
          "request head not received in time"), startTime, startNanos, parser);
      return false;
    } catch (HttpFailureException e) {
      RejectedHead.answer(server, this, e, startTime, startNanos, parser);
      return false;
    } catch (IOException e) {
      log.debug("connection_closed_mid_head conn={} error={}", id, LogValues.quoted(e.toString()));
      return false;
    } finally {
      in.readTimeout(millis(config.idleTimeout().toMillis()));
    }
    // A buffer grown for the body before this head (pipelined behind it) goes now, not after
    // this exchange, whose response may stream for long.
    in.trimBuffer();
    boolean more;
    try {
      more = new RealExchange(server, this, sequence, head, startTime, startNanos).run();
    } catch (Throwable e) {
      if (tunnelNext != null) {
        tunnelNext.close();
        tunnelNext = null;
      }
      throw e;
    }
    UpstreamConnection tunnel = tunnelNext;
    if (tunnel == null) {
      return more;
    }
    tunnelNext = null;
    runTunnel(tunnel);
    return false;
  }

  /**
   * A CONNECT's 2xx or a 101 was sent: {@code upstream} is relayed once the exchange has ended,
   * so that it is reported (access line, listeners, a testkit's recording) when the tunnel opens,
   * not when it closes, on the relay and on a TLS connection's threads alike.
   */
  void tunnelAfterExchange(UpstreamConnection upstream) {
    tunnelNext = upstream;
  }

  /**
   * Writes the failure's answer with Connection: close; returns what was sent, or null if
   * nothing was.
   *
   * @param requestHeaders the request's headers when its head was read (an HTML page for clients
   *     that accept it), else null
   * @param requestId the exchange's request ID, sent back in the configured header; null if the
   *     head could not be read
   * @param headRequest whether the request was a HEAD, whose answer has no body
   */
  ResponseSender.Outcome sendError(HttpFailureException e, Headers requestHeaders, String requestId,
      boolean headRequest) {
    if (e.failure().status() == 0) {
      return null;
    }
    Response answer = server.errorPages().render(e, requestHeaders);
    if (headRequest && answer.body().contentLength() >= 0) {
      // The length a GET would have had, without the body (RFC 9110 §8.6).
      answer = answer.withHeader("Content-Length", Long.toString(answer.body().contentLength()));
    }
    try {
      return sender.send(answer, requestId == null ? null : config.requestIdHeader(), requestId,
          headRequest, 1, true, false);
    } catch (IOException ioe) {
      return null;
    }
  }

  /**
   * True if the client has closed or reset the connection while its exchange waits for the
   * upstream (see {@link ConnectionInput#peerGone}); what it sent meanwhile stays buffered.
   */
  boolean clientGone() {
    return in.peerGone();
  }

  /**
   * The watch for this client leaving while its exchange waits long for the upstream; null where
   * there is no selector to watch it on (no parker, or no channel beneath).
   */
  DepartureWatch departureWatch() {
    if (departureWatch == null) {
      IdleParker parker = parker();
      if (parker != null) {
        departureWatch = new DepartureWatch(channel(), parker, this::clientGone, () -> in.hasBuffered());
      }
    }
    return departureWatch;
  }

  /** See {@link RequestArrival#chunkedBody}: for the body after the head just read. */
  RequestArrival.ChunkedBody chunkedBody() {
    return arrival.chunkedBody(in);
  }

  /**
   * RFC 9112 §9.3: persistence is the default in 1.1 and opt-in in 1.0, except that a proxy
   * "MUST NOT maintain a persistent connection with an HTTP/1.0 client": a request it forwards
   * as a proxy (absolute-form, or a CONNECT) from a 1.0 client ends its connection whatever its
   * {@code Connection: keep-alive} says, since 1.0 proxies before it may have passed that on
   * blindly. Where Ferry answers as the origin (a reverse proxy, an intercepted session, its own
   * {@code /_stats}) the client's opt-in holds, as it does at nginx.
   */
  boolean clientKeepsAlive(RequestHead head) {
    if (head.minorVersion() == 1) {
      return !head.headers().containsToken("Connection", "close");
    }
    boolean proxied = !head.target().startsWith("/") && interceptAuthority == null
        && !server.configuration().isReverse();
    return !proxied && head.headers().containsToken("Connection", "keep-alive");
  }

  /**
   * Whether the body of the request just read was being awaited whole and its deadline passed
   * before it was all there: it is answered 408 before any of it goes upstream.
   */
  boolean bodyOverdue() {
    return awaitedBody.overdue();
  }

  /**
   * Whether the body of the request just read was being awaited whole and its client left before
   * it was all there: none of it goes upstream.
   */
  boolean bodyAbandoned() {
    return awaitedBody.abandoned();
  }

  /**
   * How much of the body of the request just read arrived, for one that never arrived whole: what
   * the connection holds after its head, at most its {@code declared} length.
   */
  long bufferedBodyBytes(long declared) {
    return declared >= 0 ? Math.min(in.buffered(), declared) : in.buffered();
  }

  /** True once the proxy's stop closed the connection: what broke then is the stop's doing. */
  boolean stoppedByProxy() {
    return out.stopped();
  }

  /** Whether the body of the request just read could not be written to its spool file. */
  boolean bodyUnstored() {
    return awaitedBody.unstored();
  }

  /**
   * @param length the body's framing: its Content-Length, or {@code Framing.CHUNKED}
   * @param chunked what is known of a chunked body before it is read; null for a length
   */
  ClientBody openBody(long length, RequestArrival.ChunkedBody chunked, boolean expectContinue) {
    return new ClientBody(in, length, chunked, config, expectContinue ? this::sendContinue : null,
        awaitedBody, this::stoppedByProxy);
  }

  /**
   * Ends the connection with a reset (and over TLS without {@code close_notify}) rather than an
   * orderly close: the one signal that a response without a length was cut off (RFC 9112 §8:
   * a close-delimited message is complete only where the connection closes cleanly).
   */
  void resetOnClose() {
    reset = true;
  }

  private void sendContinue() throws IOException {
    try {
      out.write(CONTINUE);
      out.flush();
    } catch (IOException e) {
      throw ResponseSender.clientSide("client closed", e);
    }
  }

  /**
   * Relays bytes between this client and {@code upstream} until both sides are done: on the
   * proxy's {@link TunnelRelay} when both sockets are plain, so the tunnel holds no thread (this
   * task then ends and the relay ends the connection), else on two threads: on virtual threads
   * this one and one more, on a pool two of their own, this task ending at once.
   */
  void runTunnel(UpstreamConnection upstream) throws IOException {
    tunneled = true;
    state.tunnel(upstream);
    TunnelRelay relay = server.tunnelRelay();
    Socket upstreamSocket = upstream.socket();
    if (relay != null && !tls && socket.getChannel() != null
        && !(upstreamSocket instanceof SSLSocket) && upstreamSocket.getChannel() != null) {
      in.unwatch();
      upstream.input().unwatch();
      relayed = true;
      relay.relay(socket.getChannel(), in.takeBuffered(), upstreamSocket.getChannel(),
          upstream.input().takeBuffered(), (toUpstream, toClient, writeTimedOut) -> {
            if (writeTimedOut) {
              server.writeTimedOut(clientAddress);
            }
            upstream.close();
            log.debug("tunnel_closed conn={} to_upstream={} to_client={}", id, toUpstream, toClient);
            end();
          });
      return;
    }
    int idleMillis = millis(config.idleTimeout().toMillis());
    in.recoverableTimeout(idleMillis);
    upstream.input().recoverableTimeout(idleMillis);
    Tunnel tunnel = new Tunnel(socket, in, out, upstream.socket(), upstream.input(),
        upstream.output(), idleMillis);
    ThreadFactory threads = server.executor().auxiliaryThreads();
    if (server.executor().isVirtual()) {
      runTunnel(tunnel, upstream, threads);
      return;
    }
    // Not on a pool thread: idle tunnels on TLS sockets held every thread of the pool, and new
    // clients then got nothing at all (probe i14). Its own threads are bounded as connections
    // are (maxConnections), and the last of them ends the connection.
    relayed = true;
    threads.newThread(() -> {
      runTunnel(tunnel, upstream, threads);
      end();
    }).start();
  }

  private void runTunnel(Tunnel tunnel, UpstreamConnection upstream, ThreadFactory threads) {
    blockingTunnel = tunnel;
    try {
      tunnel.run(threads);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      blockingTunnel = null;
      upstream.close();
      log.debug("tunnel_closed conn={} to_upstream={} to_client={}", id, tunnel.bytesToUpstream(),
          tunnel.bytesToClient());
    }
  }

  /**
   * True once the connection, not the exchange, owns its tunnel: it runs after the exchange, the
   * tunnel relay runs it (and closes it at the end), or an intercepted CONNECT awaits the
   * tunnel's first bytes.
   */
  boolean ownsTunnel() {
    return relayed || pendingIntercept != null || tunnelNext != null;
  }

  /**
   * For a stopping proxy: closes a tunnel on a TLS socket that is at rest, as the relay closes a
   * plain one, rather than holding the stop for its grace (probe v14). True if it did.
   */
  boolean closeIfTunnelAtRest() {
    Tunnel tunnel = blockingTunnel;
    if (tunnel == null || !tunnel.atRest(System.nanoTime())) {
      return false;
    }
    forceClose();
    return true;
  }

  /**
   * Waits for its next request on an event loop ({@link EventLoop}): parked, with no thread, until
   * its idle deadline (from accept, the request-header timeout). False if the proxy asked it to
   * close meanwhile: the caller then ends it.
   */
  boolean parkOnLoop() {
    parkedDeadlineNanos = sequence == 0 ? acceptedNanos + config.requestHeaderTimeout().toNanos()
        : System.nanoTime() + config.idleTimeout().toNanos();
    return waitOnLoop();
  }

  /**
   * Parked on its loop again after a read that found nothing, its deadline kept; false if the
   * proxy asked it to close meanwhile: the caller then ends it.
   */
  boolean waitOnLoop() {
    in.dropBuffer();
    return state.park();
  }

  /**
   * The loop is about to read what the client sent: from here the connection is not parked, and
   * a stopping proxy leaves it to the loop (see {@link ConnectionState#beginBriefWait}). False
   * if the proxy asked it to close with nothing arriving: the caller ends it.
   */
  boolean beginReadOnLoop() {
    return state.beginBriefWait();
  }

  /**
   * The loop's read is over. False if the proxy asked the connection to close meanwhile and
   * no request came (blank lines are none): the caller ends it. Under the state's lock, so that a
   * stop looking from here on sees what the read buffered.
   */
  boolean endReadOnLoop() {
    return state.endBriefWait(this::requestBuffered);
  }

  /** On the connection's own thread or loop: bytes read and not yet served, more than blank lines. */
  private boolean requestBuffered() {
    return in.hasBuffered() && !UnreadInput.blankLinesOnly(in);
  }

  /**
   * The loop read part of a request ({@code LoopAdmission.start}): part of its head, or a whole
   * head and part of a small body. True if it waits there for the rest, under the deadline
   * {@link RequestArrival} sets, as the idle parker awaits it (for a head the request-header
   * timeout from its start, which for a new connection is its accept; for a body the idle
   * timeout after its last bytes, or sooner at the minimum body rate), now the connection's
   * parked deadline; false if the threads should take it now: a head their parser can judge
   * already (too long, malformed), no room left to grow (503), or a deadline passed (408).
   */
  boolean awaitOnLoop() {
    long now = System.nanoTime();
    arrival.headStarted(sequence == 0 ? acceptedNanos : now, in.lastReadNanos());
    arrival.arrived(now);
    long deadline = arrival.nextDeadline(in);
    if (deadline == RequestArrival.READY || deadline - now <= 0) {
      return false;
    }
    if (arrival.awaitingBody()) {
      state.receivingBody(); // a stop lets it in within its grace, as on the threads
    }
    parkedDeadlineNanos = deadline;
    return true;
  }

  /**
   * The loop serves the request it read: false if the proxy asked the connection to close. What
   * the arrival knew of a request that came in pieces is taken for it: when its first byte came
   * ({@link #loopRequestStartNanos}).
   */
  boolean serveOnLoop() {
    if (!state.serveRequest()) {
      return false;
    }
    sequence++;
    arrival.takeHeadStart(0);
    arrival.takeBody(0);
    loopFirstByteNanos = arrival.takeFirstByte(0);
    return true;
  }

  /**
   * When the request the loop serves began: its first byte, for one that came in pieces, else
   * the read that brought it (a pipelined request's wait behind the one before it counts).
   */
  long loopRequestStartNanos() {
    return loopFirstByteNanos != 0 ? loopFirstByteNanos : in.lastReadNanos();
  }

  /** The loop's exchange ended: false if the connection must close now (the proxy stops). */
  boolean nextOnLoop() {
    return state.waitForRequest();
  }

  /** True until a request of this connection has been served: a new client, not yet admitted. */
  boolean neverServed() {
    return sequence == 0;
  }

  /** Whether the proxy asked this connection to close (its answer then says so). */
  boolean closeRequested() {
    return state.closeRequested();
  }

  ConnectionInput input() {
    return in;
  }

  /** The loop is done with the connection: closed, and its slot given back, exactly once. */
  void endOnLoop() {
    state.unpark();
    endingOnLoop = true;
    end();
    recycleBuffers(); // the loop was its last user, as the thread that ends a connection is
  }

  /** The idle parker hands the connection, readable, to the executor. */
  void leaveParker() {
    queuedNanos = System.nanoTime();
    state.unpark();
  }

  /** Goes to the back of the executor's queue; false if there is no room (see ConnectionExecutor). */
  private boolean requeue() {
    queuedNanos = System.nanoTime();
    return server.executor().requeue(this);
  }

  /** Closes the connection now if it waits for a request, else after the current exchange. */
  void requestClose() {
    if (closeIfTunnelAtRest()) {
      return;
    }
    switch (state.requestClose(() -> !linger.onParker() && UnreadInput.arriving(socket, in))) {
      case END -> end();
      case CLOSE_SOCKET -> closeSocket();
      case LATER -> { } // serving a request: it closes itself after the exchange
    }
  }

  /**
   * The stop's grace is over: decides, before any connection is closed (see
   * {@link #forceClose}), whether a request waits unserved here, to be reported as cut. From
   * here no thread serves a request on this connection.
   */
  void cutAtGraceEnd() {
    state.cut(() -> UnreadInput.arrived(socket, in),
        () -> UnreadInput.arriving(socket, in));
  }

  /**
   * After {@link #cutAtGraceEnd}: closes the connection and any tunnel now, whatever it is
   * doing, reports a request cut waiting, and interrupts the connection's thread in case a
   * filter blocks on something other than a socket.
   */
  void forceClose() {
    // Close first: a woken filter must find the client gone, not slip a response out. A write
    // the close breaks is then the stop's failure, not the client's.
    out.markStopped();
    closeSocket();
    ConnectionState.Forced forced = state.forceClose();
    if (forced.tunnelPeer() != null) {
      forced.tunnelPeer().close();
    }
    if (forced.requestCut()) {
      // A request that waited in the queue for the whole grace, or whose body was still arriving
      // on the selector, is cut unanswered: like an exchange cut then, it is logged and counted
      // (probes v30, v31: it vanished without a trace).
      if (forced.wasParked() && arrival.clientLeft()) {
        failArrivingBody();
        return;
      }
      log.info("exchange_failed failure=PROXY_STOPPED status=0 waiting=true client={} conn={}", clientText(), id);
      // Timed from its first byte, as a served one is: it waited the whole grace, not a millisecond.
      // No thread runs the connection now, so its arrival is the stop's to read.
      long firstByte = arrival.firstByte(queuedNanos);
      ExchangeReport.headless(server, id, clientAddress, firstByte, 0, 0, "PROXY_STOPPED", false);
    }
    if (forced.wasParked()) {
      end();
    }
  }

  /**
   * The stop's grace ended while this parked connection received a request's body: its head is
   * whole, so its exchange runs, ends at once as PROXY_STOPPED with nothing sent upstream, and
   * is reported with its request line, ID, body bytes and duration, started for listeners, like
   * a body its client abandons (probe v34: a line of dashes, no start). On a thread of its own,
   * marked as serving this proxy: on the stop's, listeners ran one connection after another
   * past the stop's bound, and one that stopped the proxy waited for itself (probe v35).
   */
  private void failArrivingBody() {
    server.executor().auxiliaryThreads().newThread(() -> {
      SERVING.set(server);
      try {
        exchange(++sequence);
      } catch (IOException e) {
        log.debug("connection_closed conn={} error={}", id, LogValues.quoted(e.toString()));
      } catch (RuntimeException | Error e) {
        crashed(e);
      } finally {
        SERVING.remove();
        end();
      }
    }).start();
  }

  ResponseSender sender() {
    return sender;
  }

  long id() {
    return id;
  }

  InetSocketAddress clientAddress() {
    return clientAddress;
  }

  /** The client's address as forwarding headers carry it, made once per connection, not per request. */
  String clientAddressText() {
    String text = clientAddressText;
    if (text == null) {
      text = HostNames.addressText(clientAddress.getAddress());
      clientAddressText = text;
    }
    return text;
  }

  /** The client's address for logs: {@code 127.0.0.1:5000}, {@code [::1]:5000}. */
  String clientText() {
    return HostNames.authorityText(clientAddress.getAddress(), clientAddress.getPort());
  }

  InetSocketAddress localAddress() {
    return localAddress;
  }

  private void closeSocket() {
    try {
      SocketChannel own = socket.getChannel();
      EventLoop loop = endingOnLoop && !reset && own != null ? server.eventLoop(id) : null;
      if (loop != null) {
        loop.closeEnded(own); // after the selector drops its key: see there
        return;
      }
      if (reset) {
        SocketChannel beneath = channel();
        Socket plain = beneath != null ? beneath.socket() : socket;
        plain.setSoLinger(true, 0);
        if (beneath != null) {
          beneath.close(); // before the TLS layer could send its close_notify
        }
      }
      socket.close();
    } catch (IOException ignored) {
      // The connection is over either way.
    }
  }

  private static int millis(long millis) {
    return (int) Math.min(Integer.MAX_VALUE, Math.max(1, millis));
  }
}
