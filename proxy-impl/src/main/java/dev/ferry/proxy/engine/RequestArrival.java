package dev.ferry.proxy.engine;

import dev.ferry.proxy.ProxyConfig;
import dev.ferry.proxy.engine.http1.ChunkedProgress;
import dev.ferry.proxy.engine.http1.HeadScan;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.io.BodySpool;
import dev.ferry.proxy.engine.io.ByteBudget;
import dev.ferry.proxy.engine.io.ConnectionInput;
import dev.ferry.proxy.engine.io.SpoolDirectory;

/**
 * How much of a connection's next request has arrived before it takes a thread for its
 * exchange, kept across parking: its head, and then a body awaited whole (nginx buffers request
 * bodies the same way), so that a client sending either slowly waits between its bytes without a
 * thread. It says what to wait for next and until when, and hands the exchange what the wait
 * for the body counted.
 *
 * <p>Awaited whole in memory: a body framed by {@code Content-Length} up to the request buffer,
 * or a chunked one up to {@value #CHUNKED_BYTES} bytes (its size comes chunk by chunk, so it can
 * be neither known nor budgeted in advance); not one whose client expects 100 Continue. The
 * input's buffer grows for it from the proxy's budget for request buffers. A larger body, or one
 * for which that budget is spent, is awaited on disk instead (in a {@link BodySpool}, within the
 * proxy's disk budget): by its length, or a chunked one by following its framing
 * ({@link ChunkedProgress}) to find its end. When the disk budget is spent
 * too, the exchange reads the rest as it streams. A CONNECT's declared body is awaited in
 * memory only: whatever follows its head may become tunnel bytes, which the tunnel takes from
 * the buffer.
 */
final class RequestArrival {
  /** The largest chunked body awaited whole. */
  static final int CHUNKED_BYTES = 16 * 1024;
  /**
   * How much a read for a chunked body on disk may take, when the body may need less: the bytes
   * past its end go to the spool too, and back to memory for the next head (at most this many,
   * which the connection's own buffer holds). Reading no more than the body could need costs
   * several reads per chunk when chunks are tiny.
   */
  private static final int CHUNKED_READ_BYTES = 16 * 1024;
  /** What {@link #nextDeadline} returns when the request can go to its exchange. */
  static final long READY = Long.MIN_VALUE;

  private final ProxyConfig config;
  private final ByteBudget budget;
  private final SpoolDirectory spools;
  /** Whether the buffered start of a head can go to the parser. */
  private final ConnectionInput.BufferedScan headDecidable;
  /**
   * What a whole head declares of a body to await (see {@link HeadScan#bodyFraming}): the one
   * scan a request without a body gets.
   */
  private final ConnectionInput.BufferedMeasure framing;
  private final ConnectionInput.BufferedScan refusedBeforeBody;
  /** How many bytes a request with a body to await in memory takes, while some are missing, else -1. */
  private final ConnectionInput.BufferedMeasure pendingInMemory;
  /** The same for a body to await on disk by its length: not a CONNECT's. */
  private final ConnectionInput.BufferedMeasure pendingOnDisk;
  /** The largest body awaited on disk; 0: none is. */
  private final long diskLimit;
  /** The progress of a chunked body being awaited on disk; null otherwise. */
  private ChunkedProgress chunks;
  /** What that progress found of the body, kept for the exchange that takes it; null otherwise. */
  private ChunkedBody spooledChunks;
  /**
   * When the head's first byte arrived (a new connection: when it was accepted), from which the
   * request-header timeout counts; 0 between requests.
   */
  private long headStartNanos;
  /** When the request's first byte was seen, from which its latency counts; 0 between requests. */
  private long firstByteNanos;
  /** Whether the head outgrew the buffer while the request-buffer budget was spent. */
  private boolean headRefused;
  /** When the wait for a body awaited whole began, its head complete; 0 otherwise. */
  private long bodyStartNanos;
  /** The length of that body's head: the bytes buffered after it are the body's. */
  private int bodyHeadBytes;
  /** When bytes of that body last arrived. */
  private long bodyLastArrivalNanos;
  /** Whether that body's deadline passed before all of it arrived. */
  private boolean bodyOverdue;
  /** Whether the client left before all of that body arrived. */
  private boolean bodyAbandoned;
  /** Whether writing that body to its spool file failed. */
  private boolean bodyUnstored;

  /**
   * @param refusedBeforeBody whether the buffered head is sure to be refused whatever its body
   *     (the proxy's credentials missing): its body is then not awaited, and the exchange answers
   *     at once, so that such clients cannot fill the request buffers and the spool
   */
  RequestArrival(ProxyConfig config, ByteBudget budget, SpoolDirectory spools,
      ConnectionInput.BufferedScan refusedBeforeBody) {
    this.config = config;
    this.budget = budget;
    this.spools = spools;
    this.refusedBeforeBody = refusedBeforeBody;
    int maxLine = config.maxRequestLineBytes();
    int maxHead = config.maxHeaderBytes();
    this.headDecidable = (bytes, from, to) -> HeadScan.decidable(bytes, from, to, maxLine, maxHead);
    // Never a body over the body limit, which is refused before it is read.
    long lengthLimit = Math.min(config.requestBufferBytes(), config.maxRequestBodyBytes());
    int chunkedLimit = (int) Math.min(CHUNKED_BYTES, lengthLimit);
    this.pendingInMemory = (bytes, from, to) ->
        HeadScan.pendingRequestBytes(bytes, from, to, lengthLimit, chunkedLimit);
    long diskLimit = Math.min(config.requestSpoolBytes(), config.maxRequestBodyBytes());
    this.diskLimit = diskLimit;
    this.pendingOnDisk = (bytes, from, to) -> diskLimit == 0 || HeadScan.isConnect(bytes, from, to) ? -1
        : HeadScan.pendingLengthBytes(bytes, from, to, diskLimit);
    long anyLimit = Math.max(lengthLimit, diskLimit);
    this.framing = (bytes, from, to) -> HeadScan.bodyFraming(bytes, from, to, anyLimit);
  }

  /**
   * The request's first byte is here: its head started at {@code nanos} (for the timeout),
   * unless an earlier start is known; its latency counts from {@code readySince}, when it was
   * known to be in (0: now).
   */
  void headStarted(long nanos, long readySince) {
    if (headStartNanos == 0) {
      headStartNanos = nanos;
      firstByteNanos = readySince != 0 ? readySince : System.nanoTime();
    }
  }

  /**
   * Judges what {@code in} holds and makes room in it for what the request still needs. Returns
   * {@link #READY} once the parser can finish the head without waiting (see
   * {@link HeadScan#decidable}) and no body is awaited whole or all of it has arrived (or waits
   * in the kernel), or when neither the buffer nor a spool has room for it; otherwise the
   * deadline for the rest: the request-header timeout from the head's start for a head, and for
   * a body the moment it would break the exchange's own rules ({@link ClientBody}): the idle
   * timeout after its last bytes, or sooner, once its bytes so far fall below the minimum rate.
   * Past the deadline the request goes to its exchange too, which answers 408 or reads the rest.
   */
  long nextDeadline(ConnectionInput in) {
    // Once a body goes to disk its head is whole: no need to scan it again for every few bytes.
    if (!in.spooling() && !in.scanBuffered(headDecidable)) {
      // The head phase's room: its limit, and a small body after it. Growth past the buffer's
      // size comes from the budget bodies take from too: thousands of clients stalled in large
      // heads would otherwise hold maxHeaderBytes each and exhaust the heap. Without room the
      // exchange refuses the request at once (503): reading the rest on a thread would let the
      // same clients hold every thread of a bounded pool until their header timeout.
      if (in.makeRoom(config.maxHeaderBytes() + CHUNKED_BYTES, budget)) {
        return headStartNanos + config.requestHeaderTimeout().toNanos();
      }
      headRefused = true;
      return READY;
    }
    if (!bodyPending(in)) {
      return READY;
    }
    if (bodyStartNanos == 0) {
      bodyStartNanos = System.nanoTime();
      bodyHeadBytes = (int) in.measureBuffered(HeadScan::headLength);
      bodyLastArrivalNanos = bodyStartNanos;
    }
    long idleDeadline = bodyLastArrivalNanos + config.idleTimeout().toNanos();
    long rate = config.minRequestBodyRate();
    if (rate == 0) {
      return idleDeadline;
    }
    return Math.min(idleDeadline, bodyStartNanos + ClientBody.earnedNanos(in.buffered() - bodyHeadBytes, rate));
  }

  /**
   * True while the request's head is followed by a body to await whole that is still arriving,
   * with room made for more of it; false when the request can go to its exchange.
   */
  private boolean bodyPending(ConnectionInput in) {
    if (chunks != null) {
      noteArrivalsWhileAway(in.socketAvailable());
      return !chunks.done() && !chunks.stopped()
          && in.makeSpoolRoom(Math.max(chunks.minRemaining(), CHUNKED_READ_BYTES));
    }
    long declared = in.measureBuffered(framing);
    if (declared == -1 || in.scanBuffered(refusedBeforeBody)) {
      return false;
    }
    int waiting = in.socketAvailable();
    noteArrivalsWhileAway(waiting);
    return declared < -1 ? chunksPending(in, (int) (-2 - declared)) : lengthPending(in, declared, waiting);
  }

  /**
   * A body framed by length, of which the request takes {@code needed} bytes: in memory up to
   * the request buffer, while the budget allows; else on disk, if it may be awaited there. All
   * of it here or {@code waiting} in the kernel already (a fast upload): the exchange reads it
   * without waiting, straight from the socket, so it need not be copied first.
   */
  private boolean lengthPending(ConnectionInput in, long needed, int waiting) {
    if (in.buffered() + waiting >= needed) {
      return false;
    }
    if (!in.spooling()) {
      if (in.measureBuffered(pendingInMemory) >= 0 && in.makeRoom((int) needed, budget)) {
        return true;
      }
      if (in.measureBuffered(pendingOnDisk) < 0 || !spool(in, null)) {
        return false;
      }
    }
    return in.makeSpoolRoom(needed - in.buffered());
  }

  /**
   * A chunked body whose head is {@code head} bytes long: in memory while it may stay under
   * {@value #CHUNKED_BYTES} bytes and the budget allows (what waits in the kernel is read, to
   * find its end: its size is unknown); else on disk, following its framing from the bytes
   * buffered after the head, then from each byte that goes to the spool (a read may take bytes
   * past its end: see {@link #CHUNKED_READ_BYTES}). Not awaited if the part buffered ends it or
   * breaks its framing.
   */
  private boolean chunksPending(ConnectionInput in, int head) {
    long needed = in.measureBuffered(pendingInMemory);
    if (needed >= 0 && in.makeRoom((int) needed, budget)) {
      return true;
    }
    if (diskLimit == 0 || in.scanBuffered(HeadScan::isConnect)) {
      return false;
    }
    ChunkedProgress progress = new ChunkedProgress(diskLimit, config.maxHeaderBytes(), config.maxHeaderCount());
    in.measureBuffered((bytes, from, to) -> progress.feed(bytes, from + head, to));
    if (progress.done() || progress.stopped() || !spool(in, progress::feed)) {
      return false;
    }
    chunks = progress;
    return in.makeSpoolRoom(Math.max(progress.minRemaining(), CHUNKED_READ_BYTES));
  }

  /**
   * What is known of a chunked body before any of it goes upstream.
   *
   * @param refusal what the decoder will answer it; null when the body, or the part of it here,
   *     is well framed (or past the limit it was followed to), and the decoder judges the rest as
   *     it streams
   * @param length its data's length when all of it is here and it has no trailer fields, else -1:
   *     it then goes upstream with that {@code Content-Length}, as nginx sends a body it buffered
   *     (many servers, HTTP/1.0 ones and simple frameworks, read no chunked request bodies)
   * @param dataBytes the data bytes of the chunks here: what of the body arrived, framing aside
   * @param whole true when all of it is here, its last chunk and trailer section included
   */
  record ChunkedBody(HttpFailureException refusal, long length, long dataBytes, boolean whole) {}

  /**
   * {@link ChunkedBody What is known} of the chunked body after the head just read: followed on
   * disk as it arrived, or buffered in memory after the head (a body awaited whole is all there).
   */
  ChunkedBody chunkedBody(ConnectionInput in) {
    ChunkedBody spooled = spooledChunks;
    spooledChunks = null;
    if (spooled != null) {
      return spooled;
    }
    ChunkedProgress progress = new ChunkedProgress(Long.MAX_VALUE, config.maxHeaderBytes(), config.maxHeaderCount());
    in.measureBuffered((bytes, from, to) -> progress.feed(bytes, from, to));
    return new ChunkedBody(progress.refusal(), progress.wholeLength(), progress.dataBytes(), progress.done());
  }

  /** Sends the bytes {@code in} receives from now on to a new spool; false if none can be had. */
  private boolean spool(ConnectionInput in, BodySpool.Watcher watcher) {
    BodySpool spool = spools.open();
    if (spool == null) {
      return false;
    }
    spool.watch(watcher);
    in.spoolTo(spool);
    return true;
  }

  /**
   * Bytes that wait in the socket came while the connection was parked, or waited for its
   * thread: the body's idle time counts from their arrival, not from before the hand-over.
   */
  private void noteArrivalsWhileAway(int waiting) {
    if (waiting > 0 && bodyStartNanos != 0) {
      bodyLastArrivalNanos = System.nanoTime();
    }
  }

  /** More bytes arrived at {@code nanos}. */
  void arrived(long nanos) {
    if (bodyStartNanos != 0) {
      bodyLastArrivalNanos = nanos;
    }
  }

  /** True once the head is in and a body awaited whole is arriving (see {@link #nextDeadline}). */
  boolean awaitingBody() {
    return bodyStartNanos != 0;
  }

  /**
   * The deadline {@link #nextDeadline} gave passed with the request still incomplete: a body
   * being awaited is overdue (its exchange answers 408 without going upstream); a head goes to
   * its parser, which answers 408 in turn.
   */
  void deadlinePassed() {
    bodyOverdue = bodyStartNanos != 0;
  }

  /**
   * The client closed or reset the connection with the request still incomplete. True if its
   * head was in and its body arriving: that request goes to its exchange, which accounts for it
   * ({@code CLIENT_CLOSED}: counted and logged, as one whose body streams would be) without
   * sending any of it upstream. False for a head cut short, which is no request.
   */
  boolean clientLeft() {
    bodyAbandoned = bodyStartNanos != 0;
    return bodyAbandoned;
  }

  /**
   * Writing the body being awaited to its spool file failed (the disk full): its request goes to
   * its exchange, which answers 503 without sending any of it upstream, where the connection
   * used to end as if the client had left (probe r13).
   */
  void spoolFailed() {
    bodyUnstored = true;
  }

  /**
   * The exchange begins at {@code startNanos}: returns when its head started ({@code fallback}
   * if unknown), and forgets it for the next request.
   */
  long takeHeadStart(long fallback) {
    long start = headStartNanos != 0 ? headStartNanos : fallback;
    headStartNanos = 0;
    return start;
  }

  /**
   * Whether the head now going to its exchange outgrew the connection's buffer with no room left
   * in the request-buffer budget: it is to be refused (503), not read on a thread. Forgets it for
   * the next request.
   */
  boolean takeHeadRefused() {
    boolean refused = headRefused;
    headRefused = false;
    return refused;
  }

  /**
   * When the exchange's first byte was seen ({@code fallback} if it was not awaited), so that its
   * latency covers a head and body awaited before it took a thread (nginx's
   * {@code $request_time} counts from the first byte read too); forgets it for the next request.
   */
  long takeFirstByte(long fallback) {
    long first = firstByte(fallback);
    firstByteNanos = 0;
    return first;
  }

  /** When the request's first byte was seen ({@code fallback} if it was not), remembered still. */
  long firstByte(long fallback) {
    return firstByteNanos != 0 ? firstByteNanos : fallback;
  }

  /**
   * The exchange begins at {@code startNanos}: returns how its body was awaited, for its
   * {@link ClientBody}, and forgets it for the next request.
   */
  ClientBody.Awaited takeBody(long startNanos) {
    ClientBody.Awaited awaited = bodyStartNanos == 0 ? ClientBody.Awaited.NONE
        : new ClientBody.Awaited(startNanos - bodyStartNanos, bodyLastArrivalNanos, bodyOverdue, bodyAbandoned,
            bodyUnstored);
    bodyOverdue = false;
    bodyAbandoned = false;
    bodyUnstored = false;
    bodyStartNanos = 0;
    spooledChunks = chunks != null ? new ChunkedBody(chunks.refusal(), chunks.wholeLength(), chunks.dataBytes(),
        chunks.done()) : null;
    chunks = null;
    return awaited;
  }
}
