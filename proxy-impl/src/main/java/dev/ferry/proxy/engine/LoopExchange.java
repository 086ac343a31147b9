package dev.ferry.proxy.engine;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.Headers;
import dev.ferry.proxy.ProxyConfig;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.engine.cache.HttpCache;
import dev.ferry.proxy.engine.cache.LoopFetch;
import dev.ferry.proxy.engine.filter.LoopChecks;
import dev.ferry.proxy.engine.filter.Refusal;
import dev.ferry.proxy.engine.http1.HeadParser;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.Methods;
import dev.ferry.proxy.engine.http1.ProxyFailure;
import dev.ferry.proxy.engine.http1.RequestHead;
import dev.ferry.proxy.engine.http1.ResponseHead;
import dev.ferry.proxy.engine.io.ConnectionInput;
import dev.ferry.proxy.engine.io.InMemoryBody;
import dev.ferry.proxy.engine.route.Attempts;
import dev.ferry.proxy.engine.route.DispatchHooks;
import dev.ferry.proxy.engine.route.LiveEndpoint;
import dev.ferry.proxy.engine.route.LiveRoute;
import dev.ferry.proxy.engine.upstream.DestinationCheck;
import dev.ferry.proxy.engine.upstream.Forwarder;
import dev.ferry.proxy.engine.upstream.Target;
import dev.ferry.proxy.engine.upstream.UpstreamBody;
import dev.ferry.proxy.engine.upstream.UpstreamConnection;
import dev.ferry.proxy.engine.upstream.UpstreamFields;
import dev.ferry.proxy.engine.upstream.UpstreamKey;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.time.Instant;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One exchange run on an {@link EventLoop}: a GET or HEAD, or a request with a small body that
 * came whole, sent to a plain-http endpoint of a reverse proxy's route ({@link LoopRoute}) or to
 * the origin a forward proxy's request names ({@link LoopOrigin}), on a connection of the loop's
 * own (an idle one, or one {@link LoopConnect} opens), its answer relayed as it
 * comes ({@link LoopBody}), never buffered whole. It does what the blocking path does for such a
 * request, with the same parts: the head parsed by {@link HeadParser}, the fields upstream by
 * {@link UpstreamFields}, a route's endpoint, retries and backoff by {@link Attempts}, the
 * client's head by {@link ClientHead}, errors by the proxy's error pages, the report by
 * {@link ExchangeReport}.
 * Where the blocking path would wait it registers for readiness, and where it would time out a
 * deadline is checked by the loop. On a caching route it sends the cache's answer instead
 * ({@link #answerWith}), when the store has one; and what a filter answers instead of passing
 * the request on, or the 404 for a request no route matches, as the proxy's own answer
 * ({@link #refuseWith}).
 *
 * <p>Which requests it takes is {@link LoopAdmission}'s to decide.
 *
 * <p>Size: over 600 lines because it is one exchange's state machine, driven by readiness: the
 * attempts (connect, write, retry, backoff), the answer's head and body, the client's side (its
 * writes, its leaving, what it pipelines) and the failures at each of those stages read and
 * change the same fields. What could leave it has: connecting ({@link LoopConnect}), where the
 * attempts go ({@link LoopDestination}), the body's framing ({@link LoopBody}), the heads' bytes
 * ({@link LoopHead}), the cache's fetch ({@link LoopFetch}).
 */
final class LoopExchange implements DispatchHooks {
  private static final Logger log = LoggerFactory.getLogger(LoopExchange.class);
  /** A whole body up to this size is copied behind its head, for one plain write. */
  private static final int COPIED_BODY_BYTES = 16 * 1024;

  /** What the loop waits for, and fails at its deadline. */
  private enum Await { NOTHING, CONNECT, RESPONSE, CLIENT, BACKOFF }

  private final EventLoop loop;
  private final RealProxyServer server;
  private final ClientConnection connection;
  private final SelectionKey clientKey;
  private final RequestHead head;
  private final Request request;
  private final LoopDestination destination;
  private final String requestId;
  private final String traceId;
  private final boolean hostNamed;
  private final Instant startTime;
  /** When the read that brought the head came: a pipelined request's wait counts. */
  private final long startNanos;
  private final ExchangeTally tally;
  private final int timeoutMillis;
  private final boolean headRequest;
  private boolean closeAfter;

  /** Where a reverse proxy's attempt under way goes; null for a forward proxy's. */
  private Target target;
  private LoopUpstream upstream;
  /** How an attempt opens a new connection; made for the first that needs one. */
  private LoopConnect connect;
  private ByteBuffer requestBytes;
  /** The client's bytes: filled from the upstream, drained to the client ({@link #draining}). */
  private ByteBuffer out;
  /** A whole body that goes after {@link #out}'s bytes (see {@link #sendWhole}); or null. */
  private LoopTail tail;
  private boolean draining;
  /** The cache's answer or a filter's to send, instead of going upstream; or null. */
  private Response stored;
  private String cacheVerdict;
  /** The cache's fetch this exchange makes and relays (a miss, a revalidation); or null. */
  private LoopFetch fetch;
  /** The client's input ended (a close, or a half-close after its request) during the exchange. */
  private boolean clientEnded;
  /** The client left mid-answer: the body is read on for the cache's copy alone ({@link #storesAfterClientLeft}). */
  private boolean storingOnly;

  /** The answer's head was read and stands (no retry): failures now are answered, not retried. */
  private boolean headParsed;
  /** Some of the answer went to the client: a failure now can only cut it off. */
  private boolean committed;
  /** The request's body, sent after its head; null for a request without one. */
  private byte[] content;
  /** The cache that an answer to this unsafe request invalidates for its URL ({@link #invalidatingAfterAnswer}); else null. */
  private HttpCache invalidated;
  /** The target sent upstream where a route strips a prefix ({@link #sendingTo}); else null: the request's. */
  private String upstreamTarget;
  /** The filters that let the request pass, whose response rewrites its answer meets; null: none. */
  private LoopChecks checks;
  /** The client's body ends where its connection does: cut short, that connection is reset. */
  private boolean clientCloseDelimited;
  private int interims;
  /** The client's socket is read meanwhile, to see it leave (and keep what it pipelines). */
  private boolean watchingClient = true;
  /** The answer's body as it passes, once its head stands; null before, and for a whole answer. */
  private LoopBody body;
  private boolean upstreamReusable;
  private boolean upstreamDone;

  private Await await = Await.NOTHING;
  /** Set once reported: nothing more happens on this exchange. */
  private boolean finished;
  private long deadlineNanos;
  private int staleRetries;
  /** What the upstream connection had read before this attempt: nothing since, and it may be stale. */
  private long readBefore;
  private int status;
  private long bodyBytes;
  private String failure;
  private String upstreamText;

  /** @param route the reverse proxy's route; null for a forward proxy's request */
  LoopExchange(EventLoop loop, ClientConnection connection, SelectionKey clientKey,
      RequestHead head, Request request, LiveRoute route, String requestId, String traceId,
      boolean hostNamed) {
    this.loop = loop;
    this.server = loop.server();
    this.connection = connection;
    this.clientKey = clientKey;
    this.head = head;
    this.request = request;
    this.destination = route == null ? new LoopOrigin(request, server.configuration())
        : new LoopRoute(route, request, this, server.configuration());
    this.requestId = requestId;
    this.traceId = traceId;
    this.hostNamed = hostNamed;
    this.tally = new ExchangeTally(server.metrics(), true);
    long now = System.nanoTime();
    this.startNanos = Math.min(now, connection.loopRequestStartNanos());
    this.startTime = Instant.now().minusNanos(now - startNanos);
    this.timeoutMillis = destination.timeoutMillis();
    this.headRequest = head.method().equals("HEAD");
    this.closeAfter = !connection.clientKeepsAlive(head);
  }

  /**
   * Makes this exchange send {@code content}, the request's body, which came whole with its
   * head, after the head (again on each attempt); null for a request without one.
   */
  LoopExchange sending(byte[] content) {
    this.content = content;
    return this;
  }

  /**
   * Makes this exchange's answer, once it stands, invalidate what {@code cache} (the built-in
   * store's) holds for the URLs it names, as the threads' cache does after an unsafe method's
   * answer on any route (RFC 9111 §4.4): a route without the cache may share its URLs with one
   * that caches them.
   */
  void invalidatingAfterAnswer(HttpCache cache) {
    this.invalidated = cache;
  }

  /**
   * Makes this exchange send {@code target} upstream in place of its request's: what a route that
   * strips a prefix leaves of the path ({@link dev.ferry.proxy.engine.route.StrippedPrefix}).
   */
  LoopExchange sendingTo(String target) {
    this.upstreamTarget = target;
    return this;
  }

  /**
   * Makes this exchange rewrite the upstream's answer as the filters that let its request pass
   * would ({@link LoopChecks#answer}); null: no filters.
   */
  LoopExchange answeringThrough(LoopChecks checks) {
    this.checks = checks;
    return this;
  }

  /**
   * Makes this exchange make {@code fetch} for the cache, as its own fetch would: a miss counted,
   * the answer marked and its body copied for the store where the storage rules allow, or a
   * revalidation's 304 answered from the store; null: the request has no cache's part.
   */
  LoopExchange fetching(LoopFetch fetch) {
    this.fetch = fetch;
    if (fetch != null) {
      this.cacheVerdict = "MISS"; // a fetch that fails is a miss too, as the cache's own says
    }
    return this;
  }

  /**
   * Makes this exchange send {@code stored}, the cache's answer (its verdict {@code verdict}),
   * instead of going upstream.
   */
  void answerWith(Response stored, String verdict) {
    this.stored = stored;
    this.cacheVerdict = verdict;
  }

  /**
   * Makes this exchange send what a filter answers instead of passing the request on (or the
   * route table, where no route matches: 404), counted and logged as its failure, dressed as the threads dress it (the proxy's error page for an error,
   * a filter's answer as the page for its status to a client that reads HTML), closing the
   * connection after it where the failure says so.
   */
  void refuseWith(Refusal refusal) {
    failure = refusal.failure().name();
    closeAfter |= refusal.failure().closeConnection();
    stored = refusal.error() != null ? server.errorPages().render(refusal.error(), head.headers())
        : server.errorPages().render(refusal.answer(), refusal.failure(), head.headers());
  }

  /** Whether it sends what a filter answers instead of the request's answer ({@link #refuseWith}). */
  boolean refused() {
    return failure != null;
  }

  /** Runs the exchange: the stored answer goes out, or its first attempt goes upstream, now. */
  void begin() {
    clientKey.attach(this);
    clientInterest(0);
    loop.running(this);
    if (stored == null) {
      if (fetch != null) {
        fetch.begin();
      }
      attempt();
      return;
    }
    sendStored(stored);
  }

  /** Sends {@code answer}, whose body is in memory or stored (see {@link #sendWhole}). */
  private void sendStored(Response answer) {
    try {
      sendWhole(answer, wholeBody(answer.body()));
    } catch (IOException e) {
      abort(e);
    }
  }

  private static ByteBuffer wholeBody(Body body) throws IOException {
    if (body instanceof InMemoryBody inMemory) {
      return inMemory.bytes();
    }
    try (InputStream stream = body.stream()) {
      return ByteBuffer.wrap(stream.readAllBytes());
    }
  }

  /** Sends the request to where the next attempt goes. */
  private void attempt() {
    try {
      destination.begin();
    } catch (HttpFailureException e) {
      answerFailure(e);
      return;
    }
    send(true);
  }

  /**
   * Sends the request on an idle connection to the attempt's endpoint or origin, or a new one
   * ({@link LoopConnect}).
   */
  private void send(boolean mayReuse) {
    UpstreamKey key;
    try {
      key = destination.key();
    } catch (HttpFailureException e) {
      failedBeforeAnswer(e);
      return;
    }
    target = destination.target(key);
    requestBytes = requestHead();
    upstream = mayReuse ? loop.idleUpstream(key) : null;
    if (upstream != null) {
      upstream.taken(this);
      if (!destinationAllows(key)) {
        return;
      }
      readBefore = upstream.input().bytesRead();
      writeRequest();
      return;
    }
    // Written once connected, after other exchanges of the loop built their heads.
    requestBytes = LoopHead.kept(requestBytes);
    // The connect timeout covers the lookup too: a resolver that does not answer fails the
    // attempt in time (504), as a connect that does not complete does.
    awaitUntil(Await.CONNECT, server.configuration().connectTimeout().toNanos());
    if (connect == null) {
      connect = new LoopConnect(loop, this);
    }
    connect.start(key);
  }

  /**
   * Whether the filters' rules on destinations ({@link LoopChecks#destination}) allow the address
   * of the idle connection just taken to {@code key}, which this client's request may not reach
   * where another's could (its rules may name clients and methods), as the threads' pool checks
   * a pooled connection; if not, the connection goes back and the request is refused (403).
   */
  private boolean destinationAllows(UpstreamKey key) {
    DestinationCheck rules = checks == null ? null : checks.destination();
    if (rules == null) {
      return true;
    }
    try {
      rules.check(key.host(), key.port(), List.of(upstream.channel.socket().getInetAddress()), false);
      return true;
    } catch (HttpFailureException denied) {
      loop.release(upstream);
      upstream = null;
      failedBeforeAnswer(denied);
      return false;
    }
  }

  /** A new connection for the attempt, connected or connecting ({@link LoopConnect}). */
  void opened(LoopUpstream opened) {
    upstream = opened;
    upstream.exchange = this;
    readBefore = 0;
    if (upstream.connected()) {
      writeRequest();
    } else {
      upstream.interest(SelectionKey.OP_CONNECT);
    }
  }

  /** The connect failed: the connection goes, and the attempt tries the next address, if any. */
  private void connectBroke(IOException e) {
    if (upstream != null) {
      upstream.close();
      upstream = null;
    }
    connect.broke(e);
  }

  private ByteBuffer requestHead() {
    Request sent = fetch == null ? request : fetch.upstreamRequest();
    Headers outbound = UpstreamFields.outbound(sent, this, false, target);
    String sentTarget = upstreamTarget == null ? request.target() : upstreamTarget;
    String path = target == null || target.endpoint().basePath().isEmpty() ? sentTarget
        : target.endpoint().basePath() + sentTarget;
    LoopHead head = loop.head.request(request.method(), path).fields(outbound);
    return (content == null ? head : head.body(content)).view();
  }

  /**
   * Writes the request's head; what the socket does not take now is kept apart from the loop's
   * head buffer ({@link LoopHead#view}), and written when it has room.
   */
  private void writeRequest() {
    try {
      upstream.channel.write(requestBytes);
    } catch (IOException e) {
      failedBeforeAnswer(e);
      return;
    }
    if (requestBytes.hasRemaining()) {
      requestBytes = LoopHead.kept(requestBytes);
      upstream.interest(SelectionKey.OP_WRITE);
    } else {
      upstream.interest(SelectionKey.OP_READ);
    }
    awaitUntil(Await.RESPONSE, timeoutMillis * 1_000_000L);
  }

  /** The upstream connection is ready for what this exchange waits for. */
  void upstreamReady(LoopUpstream ready) {
    SelectionKey key = ready.selection;
    boolean connecting = key.isConnectable();
    try {
      if (connecting) {
        ready.finishConnect();
        if (ready.connected()) {
          writeRequest();
        }
      } else if (key.isWritable()) {
        writeRequest();
      } else if (key.isReadable()) {
        if (headParsed) {
          relay();
        } else {
          readHead();
        }
      }
    } catch (IOException e) {
      if (connecting) {
        connectBroke(e);
      } else {
        upstreamFailed(e);
      }
    }
  }

  /** The upstream failed: before its answer's head, before any of its body, or mid-body. */
  private void upstreamFailed(IOException e) {
    if (committed) {
      abort(new HttpFailureException(ProxyFailure.RESPONSE_ABORTED, e.toString(), e));
    } else if (headParsed) {
      failedBeforeBody(e);
    } else {
      failedBeforeAnswer(e);
    }
  }

  private void readHead() throws IOException {
    ConnectionInput in = upstream.input();
    if (in.fillNonBlocking(upstream.channel) < 0) {
      throw new IOException("the upstream closed the connection");
    }
    ProxyConfig config = server.configuration();
    while (true) {
      // A head larger than the buffer grows it, up to the most the parser takes; at that size, a
      // head still without its end is parsed as it is and fails on the limits (502), as on the
      // threads. A full buffer waited on instead spun the loop on the upstream's readiness.
      if (!in.scanBuffered(LoopAdmission.HEAD_WHOLE)
          && in.makeRoom(HeadParser.largestResponseHead(config.maxHeaderBytes()), null)) {
        return;
      }
      ResponseHead response = new HeadParser(in, loop.lineScratch, loop.recentValues,
          HeadParser.MAX_STATUS_LINE_BYTES, config.maxHeaderBytes(), config.maxHeaderCount()).readResponse();
      if (response.status() == 101) {
        throw new HttpFailureException(ProxyFailure.UPSTREAM_BAD_RESPONSE,
            "101 Switching Protocols without an Upgrade request");
      }
      if (response.status() >= 200) {
        answered(response);
        return;
      }
      // RFC 9110 §15.2: interim answers go on (Ferry asked for none), at most MAX_INTERIM, but
      // never to an HTTP/1.0 client, which would take one for the answer.
      if (++interims > Forwarder.MAX_INTERIM) {
        throw new HttpFailureException(ProxyFailure.UPSTREAM_BAD_RESPONSE,
            "more than " + Forwarder.MAX_INTERIM + " interim (1xx) responses");
      }
      if (head.minorVersion() == 1) {
        ensureOut();
        loop.head.status(response.status(), response.reason()).fields(ClientHead.interim(response)).into(out);
      }
    }
  }

  private void answered(ResponseHead response) throws IOException {
    long length = Forwarder.bodyLength(request.method(), response);
    Response.Builder builder = Response.builder().status(response.status())
        .headers(UpstreamFields.relayed(response, false, target))
        .body(Body.of(InputStream.nullInputStream(), length >= 0 ? length : -1));
    if (!response.reason().isEmpty()) {
      builder.reason(response.reason()); // else the status's usual phrase, as on the blocking path
    }
    Response framed = builder.build();
    long wait = destination.answered(framed);
    if (wait != Attempts.NO_RETRY) {
      upstream.close(); // its body is not read: the connection cannot carry another request
      upstream = null;
      retryAfter(wait);
      return;
    }
    if (upstream.reused()) {
      server.upstreamPool().answeredOnReused();
    }
    if (invalidated != null) {
      invalidated.invalidateAfter(request, framed);
    }
    if (fetch != null) {
      // The cache sits between the retries and the filters, as in the threads' chain.
      Response relayed = fetch.answered(framed, verdict -> cacheVerdict = verdict);
      if (relayed == null) {
        answeredByStore(response);
        return;
      }
      framed = relayed;
    }
    if (checks != null) {
      framed = checks.answer(framed); // after the retries, as the threads' filters see the answer
    }
    headParsed = true;
    status = response.status();
    upstreamReusable = Forwarder.keepsAlive(response)
        && !(headRequest && Forwarder.announcesContent(status, response.headers()));
    Forwarder.keepAliveTimeout(response.headers()).ifPresent(upstream::keepAliveTimeout);
    closeAfter |= connection.closeRequested();
    ProxyConfig config = server.configuration();
    ClientHead clientHead = ClientHead.frame(framed, config.requestIdHeader(), requestId,
        headRequest, head.minorVersion(), closeAfter, false);
    clientCloseDelimited = clientHead.closeDelimited(); // an HTTP/1.0 client's body of no length
    closeAfter |= clientCloseDelimited;
    body = new LoopBody(length, clientHead.chunked(), config.maxHeaderBytes(), config.maxHeaderCount());
    if (fetch != null) {
      body.copyingTo(fetch.fill());
    }
    upstreamReusable &= !body.closeDelimited();
    ensureOut();
    loop.head.status(status, framed.reason()).fields(clientHead.fields()).into(out);
    if (!body.done() && upstream.input().hasBuffered()) {
      relay();
    } else {
      afterRead();
    }
  }

  /**
   * The cache answers in place of the upstream's answer {@code response}, whose body is not
   * relayed ({@link LoopFetch#answered}): a 304's connection, which carries no body, takes the
   * next request; another's (a server error {@code stale-if-error} hides) closes with its body
   * unread. The store's answer goes out through the filters' response rewrites; or, where it has
   * none (a 304 for another representation than the stored one), the request goes again,
   * unconditionally, as part of the same attempt.
   */
  private void answeredByStore(ResponseHead response) {
    status = response.status();
    upstreamReusable = status == 304 && Forwarder.keepsAlive(response); // bytes behind it: release closes it
    Forwarder.keepAliveTimeout(response.headers()).ifPresent(upstream::keepAliveTimeout);
    Response answer = fetch.instead();
    if (answer == null) {
      if (upstreamReusable) {
        loop.release(upstream);
      } else {
        upstream.close();
      }
      upstream = null;
      send(true);
      return;
    }
    headParsed = true;
    upstreamDone = true;
    releaseUpstream(false);
    sendStored(checks == null ? answer : checks.answer(answer));
  }

  /** Moves the body's next bytes into {@link #out} ({@link LoopBody#relay}), then sends them on. */
  private void relay() throws IOException {
    body.relay(upstream.input(), upstream.channel, out, loop.chunkScratch);
    bodyBytes = body.bytes();
    if (body.excess()) {
      upstreamReusable = false; // bytes past its answer: never read as the next one's
    }
    afterRead();
  }

  /**
   * Writes what was read to the client, and reads on, waits for the client, or ends. Nothing goes
   * to the client before the first byte of a body that has one: an upstream that closes or
   * stalls before it is still answered 502 or 504, as on the blocking path.
   */
  private void afterRead() {
    if (storingOnly) {
      out.clear();
      if (body.done()) {
        upstreamDone = true;
        releaseUpstream(false);
        finish();
      } else {
        readOn();
      }
      return;
    }
    if (!committed && body.awaitsFirstByte()) {
      readOn();
      return;
    }
    if (!committed) {
      committed = true;
      tally.beforeSending(status, null);
    }
    out.flip();
    draining = true;
    if (body.done()) {
      upstreamDone = true;
      releaseUpstream(failure != null);
    }
    if (!flush()) {
      if (!finished && !upstreamDone && !storingOnly) {
        upstream.interest(0); // until the client has room
      }
      return;
    }
    if (upstreamDone) {
      finish();
    } else {
      readOn();
    }
  }

  /**
   * Reads on in the body: at once from the bytes the upstream's input holds already (more than
   * one relay takes: a chunked body's beyond the scratch, a grown head buffer's rest), which no
   * readiness would tell of; else once the upstream sends more.
   */
  private void readOn() {
    if (upstream.input().hasBuffered()) {
      try {
        relay();
      } catch (IOException e) {
        upstreamFailed(e);
      }
      return;
    }
    upstream.interest(SelectionKey.OP_READ);
    awaitUntil(Await.RESPONSE, timeoutMillis * 1_000_000L);
  }

  /**
   * Writes what {@link #out} holds; true once all of it went. False while the client's socket is
   * full (then it waits for room), or once a write failed (the exchange is over then).
   */
  private boolean flush() {
    if (!draining) {
      return true;
    }
    boolean all;
    try {
      if (tail == null) {
        connection.channel().write(out);
        all = !out.hasRemaining();
      } else {
        all = tail.write(connection.channel(), out);
      }
    } catch (IOException e) {
      abort(e); // the client left: CLIENT_CLOSED
      return false;
    }
    if (!all) {
      clientInterest(SelectionKey.OP_WRITE);
      awaitUntil(Await.CLIENT, server.configuration().writeTimeout().toNanos());
      return false;
    }
    draining = false;
    out.clear();
    tail = null;
    clientInterest(0);
    return true;
  }

  /**
   * Sets what the client's key waits for: {@code ops}, and reading while the client is watched
   * for leaving (its pipelined bytes are kept in its input meanwhile).
   */
  private void clientInterest(int ops) {
    clientKey.interestOps(ops | (watchingClient ? SelectionKey.OP_READ : 0));
  }

  /** The client's socket has room again, or sent something (more requests, or its close). */
  void clientReady() {
    if (clientKey.isReadable() && watchingClient) {
      ConnectionInput in = connection.input();
      int n;
      try {
        n = in.fillNonBlocking(connection.channel());
      } catch (IOException e) {
        if (fetch == null) {
          // Reset: gone for certain, nothing can reach it. A fetch for the cache goes on.
          abort(new HttpFailureException(ProxyFailure.CLIENT_CLOSED, "the client reset the connection"));
          return;
        }
        n = -1;
      }
      if (n < 0) {
        inputEnded();
      } else if (n == 0) {
        watchingClient = false; // its input is full: it waits for this exchange to end
        clientInterest(draining ? SelectionKey.OP_WRITE : 0);
      }
      if (!clientKey.isWritable()) {
        return;
      }
    }
    if (!flush()) {
      return;
    }
    if (upstreamDone || upstream == null) {
      finish();
    } else {
      readOn();
    }
  }

  /**
   * The client's input ended (it closed, or half-closed after its request): its answer is still
   * sent, as the threads send it, which read nothing of the client while the upstream answers (a
   * half-closed client reads it; a write to one that left fails, and ends the exchange then).
   * A wait for the upstream's answer past {@link DepartureWatch#AFTER_NANOS} is abandoned for it
   * ({@link #checkDeadline}), as the threads' watch abandons one; a fetch for the cache is not,
   * which others may wait for. Requests it pipelined before its end are served after this one.
   */
  private void inputEnded() {
    clientEnded = true;
    watchingClient = false;
    clientInterest(draining ? SelectionKey.OP_WRITE : 0);
  }

  /**
   * The answer has come whole, or broke off: the upstream connection goes back (or is closed),
   * a route's slots too; a whole answer below 500 counts for the endpoint, one the upstream
   * broke off against it (the client's leaving says nothing of it).
   */
  private void releaseUpstream(boolean upstreamFault) {
    if (upstreamReusable && failure == null) {
      loop.release(upstream);
    } else {
      upstream.close();
    }
    upstream = null;
    destination.ended(upstreamFault, failure, status);
  }

  /**
   * The upstream failed before the head of an answer that stands: a stale connection's request
   * is sent again on a new one; otherwise the attempt failed, and is retried or answered.
   */
  void failedBeforeAnswer(IOException e) {
    boolean headBegun = upstream != null && upstream.connected()
        && upstream.input().bytesRead() > readBefore;
    // A request that may not go twice (a POST) is not sent again, as on the blocking path: the
    // upstream may have acted on it before it closed.
    boolean stale = upstream != null && upstream.reused() && !headBegun
        && !(e instanceof HttpFailureException) && Methods.isIdempotent(request.method());
    if (upstream != null) {
      upstream.close();
      upstream = null;
    }
    if (stale && staleRetries == 0) {
      // A pooled connection the upstream had closed: sent again on a new one, as the blocking
      // path resends on a stale connection, without counting an attempt.
      staleRetries++;
      send(false);
      return;
    }
    HttpFailureException failed = e instanceof HttpFailureException h ? h
        : headBegun ? new HttpFailureException(ProxyFailure.UPSTREAM_BAD_RESPONSE,
            destination.host() + " closed the connection in the middle of its response head", e)
        : new HttpFailureException(ProxyFailure.UPSTREAM_RESET,
            destination.host() + " closed the connection without a complete response", e);
    long wait = destination.failed(failed);
    if (wait == Attempts.NO_RETRY) {
      answerFailure(failed);
      return;
    }
    retryAfter(wait);
  }

  /**
   * The upstream closed or stalled after its answer's head, before any of its body: nothing went
   * to the client yet, so it is answered 502 or 504, and the endpoint is charged.
   */
  private void failedBeforeBody(IOException e) {
    HttpFailureException failed = e instanceof HttpFailureException h ? h
        : new HttpFailureException(ProxyFailure.UPSTREAM_BAD_RESPONSE,
            destination.host() + " closed the connection before its response body", e);
    failure = failed.failure().name();
    upstreamReusable = false;
    releaseUpstream(true);
    failure = null;
    out.clear();
    closeAfter = true; // as on the blocking path, which cannot tell what else the upstream sent
    answerFailure(failed);
  }

  /** The client connection this exchange serves. */
  ClientConnection connection() {
    return connection;
  }

  private void retryAfter(long waitMillis) {
    if (waitMillis <= 0) {
      retryNow();
      return;
    }
    awaitUntil(Await.BACKOFF, waitMillis * 1_000_000L);
  }

  private void retryNow() {
    await = Await.NOTHING;
    try {
      destination.retry();
    } catch (HttpFailureException e) {
      answerFailure(e);
      return;
    }
    attempt();
  }

  private void awaitUntil(Await what, long nanos) {
    await = what;
    deadlineNanos = System.nanoTime() + nanos;
  }

  /** Called by the loop's scan: fails what waited past its deadline. */
  void checkDeadline(long now) {
    if (clientEnded && !committed && fetch == null && now - startNanos >= DepartureWatch.AFTER_NANOS) {
      abort(new HttpFailureException(ProxyFailure.CLIENT_CLOSED, "the client closed the connection"));
      return;
    }
    if (await == Await.NOTHING || now - deadlineNanos < 0) {
      return;
    }
    Await passed = await;
    await = Await.NOTHING;
    switch (passed) {
      case BACKOFF -> retryNow();
      case CONNECT -> failedBeforeAnswer(connect.timedOut());
      case RESPONSE -> {
        HttpFailureException timeout = new HttpFailureException(ProxyFailure.UPSTREAM_TIMEOUT,
            "no response from " + destination.host());
        upstreamFailed(timeout);
      }
      case CLIENT -> {
        server.metrics().writeTimeouts.increment();
        connection.resetOnClose(); // as on the blocking path: what it did not read is dropped
        abort(new HttpFailureException(ProxyFailure.WRITE_TIMEOUT, "the client read nothing in time"));
      }
      default -> { }
    }
  }

  /** Answers {@code e} with the proxy's error page, as the blocking path would. */
  private void answerFailure(HttpFailureException e) {
    if (fetch != null) {
      Response stale = fetch.failed(e, verdict -> cacheVerdict = verdict);
      if (stale != null) {
        sendStored(checks == null ? stale : checks.answer(stale));
        return;
      }
      e = fetch.failure(e);
    }
    failure = e.failure().name();
    // As the threads close after it, where the failure says so (a bad upstream answer): the
    // loops kept the client's connection, answering without Connection: close.
    closeAfter |= e.failure().closeConnection();
    Response page = e.failure().status() == 0 ? null : server.errorPages().render(e, head.headers());
    if (page == null) {
      closeAfter = true;
      finish();
      return;
    }
    byte[] body;
    try (InputStream stream = page.body().stream()) {
      body = stream.readAllBytes();
    } catch (IOException unexpected) {
      body = new byte[0];
    }
    sendWhole(page.withBody(Body.of(body)), ByteBuffer.wrap(body));
  }

  /**
   * Sends {@code response}, whose body is {@code content}, all in memory (an error page, a stored
   * answer, a stored body's mapping), and ends the exchange once it went. A small body goes in the
   * head's buffer, a larger one after it ({@link LoopTail}), not copied.
   */
  private void sendWhole(Response response, ByteBuffer content) {
    status = response.status();
    closeAfter |= connection.closeRequested();
    ClientHead clientHead = ClientHead.frame(response, server.configuration().requestIdHeader(),
        requestId, headRequest, head.minorVersion(), closeAfter, false);
    closeAfter |= clientHead.closeDelimited();
    ensureOut();
    loop.head.status(status, response.reason()).fields(clientHead.fields()).into(out);
    if (!headRequest) {
      bodyBytes = content.remaining();
      if (content.remaining() <= Math.min(COPIED_BODY_BYTES, out.remaining())) {
        out.put(content);
      } else {
        tail = new LoopTail(content);
      }
    }
    committed = true;
    upstreamDone = true;
    tally.beforeSending(status, failure);
    out.flip();
    draining = true;
    if (flush()) {
      finish();
    }
  }

  /** Ends the exchange and the connection now: the client left, or the answer broke off. */
  void abort(Exception e) {
    if (finished) {
      return;
    }
    // The stop's grace ended: the connection was closed under the exchange (PROXY_STOPPED).
    ProxyFailure cause = connection.stoppedByProxy() ? ProxyFailure.PROXY_STOPPED
        : e instanceof HttpFailureException h ? h.failure() : ProxyFailure.CLIENT_CLOSED;
    if (e instanceof IOException && storesAfterClientLeft(cause)) {
      return; // not after a defect (a RuntimeException): the exchange ends
    }
    if (failure == null) {
      failure = cause.name();
    }
    if (cause == ProxyFailure.RESPONSE_ABORTED && clientCloseDelimited) {
      // RFC 9112 §8: an orderly close would tell the client its cut body is whole.
      connection.resetOnClose();
    }
    log.debug("loop_exchange_aborted conn={} error={}", connection.id(), e.toString());
    if (upstream != null) {
      upstreamReusable = false;
      if (!headParsed) {
        // Connecting, or waiting for the answer's head: the attempt's slots go back.
        upstream.close();
        upstream = null;
        destination.abandoned();
      } else {
        releaseUpstream(cause == ProxyFailure.RESPONSE_ABORTED || cause == ProxyFailure.UPSTREAM_TIMEOUT);
      }
    } else if (connect != null && connect.abandon()) {
      destination.abandoned(); // a lookup's answer is dropped: the attempt's slots go back here
    } else if (!upstreamDone && await == Await.BACKOFF) {
      destination.abandonedInBackoff();
    }
    closeAfter = true;
    draining = false;
    finish();
  }

  /**
   * The client left (or read nothing in time) in the middle of an answer whose body the cache is
   * copying: the rest is read for the copy all the same, within the entry limit and the upstream
   * timeout, and nothing more is sent, as the threads' {@code StoringBody} finishes a fill (and
   * nginx), so that the requests waiting for its URL hit rather than each go upstream. The
   * exchange ends with the body, counted as its client's failure. False, nothing done, otherwise.
   */
  private boolean storesAfterClientLeft(ProxyFailure cause) {
    if (storingOnly || fetch == null || fetch.fill() == null || !fetch.fill().active() || body == null
        || upstream == null || upstreamDone
        || cause != ProxyFailure.CLIENT_CLOSED && cause != ProxyFailure.WRITE_TIMEOUT) {
      return false;
    }
    log.debug("loop_exchange_storing conn={} after={}", connection.id(), cause);
    storingOnly = true;
    failure = cause.name();
    closeAfter = true;
    watchingClient = false;
    draining = false;
    tail = null;
    out.clear();
    clientInterest(0);
    readOn();
    return true;
  }

  /** Reports the exchange, and waits for the client's next request or ends the connection. */
  private void finish() {
    if (finished) {
      return;
    }
    finished = true;
    await = Await.NOTHING;
    loop.ended(this);
    if (fetch != null) {
      fetch.ended();
    }
    if (out != null) {
      loop.giveBack(out);
      out = null;
    }
    long nanos = System.nanoTime() - startNanos;
    tally.finish(status, failure, nanos);
    if (ExchangeReport.wanted(server, failure != null && status > 0)) {
      new ExchangeReport(server.nextExchangeId(), connection.id(), connection.clientAddress(), startTime,
          nanos, request.method(), request.url(), head.version(), head.headers(),
          content == null ? 0 : content.length, status, bodyBytes,
          destination.routeName(), upstreamText, cacheVerdict, requestId, traceId, failure).emit(server, true, true);
    }
    if (closeAfter || !connection.nextOnLoop()) {
      clientKey.cancel();
      connection.endOnLoop();
      return;
    }
    loop.next(connection, clientKey);
  }

  private void ensureOut() {
    if (out == null) {
      out = loop.takeBuffer();
    }
  }

  // What the shared parts ask of the exchange (UpstreamFields, Attempts).

  @Override
  public InetSocketAddress clientAddress() {
    return connection.clientAddress();
  }

  /** The proxy's rules on destinations, then those of the filters that passed the request ({@link LoopChecks#destination}). */
  @Override
  public DestinationCheck destinationCheck() {
    DestinationCheck rules = checks == null ? null : checks.destination();
    return rules == null ? server.destinationPolicy() : server.destinationPolicy().andThen(rules);
  }

  @Override
  public boolean clientNamedHost() {
    return hostNamed;
  }

  @Override
  public void endpointChosen(LiveEndpoint chosen) {
    upstreamText = chosen.authority();
  }

  @Override
  public int staleRetries() {
    return staleRetries;
  }

  @Override
  public boolean clientSawResponseBytes() {
    return committed;
  }

  @Override
  public void afterTunnel(Runnable action) {
    throw new IllegalStateException("no tunnel on an event loop");
  }

  @Override
  public void upstreamConnected(UpstreamConnection connection, boolean reused) {}

  @Override
  public void interim(ResponseHead interim) {}

  @Override
  public void attach(UpstreamBody body) {}

  @Override
  public void tunnel(UpstreamConnection connection) {}
}
