package dev.ferry.proxy.engine;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.Headers;
import dev.ferry.proxy.ProxyConfig;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.engine.cache.HttpCache;
import dev.ferry.proxy.engine.cache.LoopFetch;
import dev.ferry.proxy.engine.filter.HeadCheck;
import dev.ferry.proxy.engine.filter.LoopChecks;
import dev.ferry.proxy.engine.filter.Refusal;
import dev.ferry.proxy.engine.http1.HeadParser;
import dev.ferry.proxy.engine.http1.HeadScan;
import dev.ferry.proxy.engine.http1.HopByHop;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.Methods;
import dev.ferry.proxy.engine.http1.ProxyFailure;
import dev.ferry.proxy.engine.http1.RequestHead;
import dev.ferry.proxy.engine.io.ConnectionInput;
import dev.ferry.proxy.engine.route.LivePool;
import dev.ferry.proxy.engine.route.LiveRoute;
import dev.ferry.proxy.engine.route.RouteTable;
import dev.ferry.proxy.engine.route.StrippedPrefix;
import dev.ferry.proxy.engine.trace.RequestIds;
import dev.ferry.proxy.engine.trace.TraceContext;
import dev.ferry.proxy.engine.upstream.ReplayableBody;
import dev.ferry.proxy.engine.upstream.UpstreamFields;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What an {@link EventLoop} serves itself, and what it hands to the threads. It takes a request
 * its head allows ({@link LoopEligibility#plain}: a GET, HEAD, DELETE or OPTIONS without a body,
 * or a POST, PUT or PATCH with a small one; from an HTTP/1.1 or HTTP/1.0 client) whose head came
 * whole (a head in pieces is awaited on the loop: {@code ClientConnection#awaitOnLoop}, as is a
 * small body), when its listeners want only the completed exchange: in a reverse proxy, one
 * whose route's path is one it can send (a route that strips a prefix sends what is left, as the
 * threads do; a path that would climb out of the prefix is theirs to refuse, 400), when the
 * proxy's filters and the route's are all built-in checks of the head ({@link HeadCheck}: access
 * control, rate limits, credentials; what one of them answers instead, a 403, 429, 401 or 407,
 * the loop answers too, as it answers a request no route matches: 404, or the redirect to its
 * path with a slash) or rewrites of its header fields or its answer's
 * ({@link dev.ferry.proxy.spi.RequestRewrite}, {@link dev.ferry.proxy.spi.ResponseRewrite}); in a
 * forward proxy whose filters are such alone (rules on names, addresses or ports are checked
 * where the loop connects, {@link LoopChecks#destination}), one whose target is an
 * absolute {@code http} URL (origin-form requests are the proxy's own endpoints', {@code https}
 * ones need TLS to the origin). Where the cache serves the request, it answers what the built-in
 * store answers alone (a fresh hit, a 304, ranges, a stale answer within
 * {@code stale-while-revalidate}), fetches a miss that need not wait for another request's fetch
 * of its URL, storing what may be stored as it relays it, and revalidates a stale entry
 * ({@link HttpCache#lookUpOnLoop}); a miss that would wait for another request's fetch goes to
 * the threads, as does every request when the cache's store is an application's, and every
 * request but a GET or HEAD on a route the cache serves. Otherwise, and for such a miss, it goes
 * upstream from the loop: to a forward proxy's origin, or when every endpoint of the route's pool
 * is plain {@code http} (at an address, or at a name looked up off the loop) and the pool has a
 * connection free now. Anything else, a malformed head included, goes to the threads with nothing
 * sent, and is answered there as it always was.
 */
final class LoopAdmission {
  private static final Logger log = LoggerFactory.getLogger(LoopAdmission.class);
  /** Whether the bytes buffered hold a whole head (a request's or a response's). */
  static final ConnectionInput.BufferedScan HEAD_WHOLE =
      (bytes, from, to) -> HeadScan.headLength(bytes, from, to) >= 0;
  /**
   * For a whole head that declares by its length a body the loop could send (at most
   * {@link LoopEligibility#MAX_BODY_BYTES}, and within the request buffer, the body limit and the
   * retry buffer, so that {@code RequestArrival} awaits it in memory, never on disk) which has not
   * all come: how many bytes the request takes; otherwise -1.
   */
  private static ConnectionInput.BufferedMeasure smallBodyPending(ProxyConfig config) {
    long limit = Math.min(Math.min(LoopEligibility.MAX_BODY_BYTES, config.retryBufferBytes()),
        Math.min(config.requestBufferBytes(), config.maxRequestBodyBytes()));
    return (bytes, from, to) -> HeadScan.pendingLengthBytes(bytes, from, to, limit);
  }

  /** What {@link #start} takes for its read when the connection broke (a read returns -1 or more). */
  private static final int BROKEN = -2;

  private LoopAdmission() {}

  /** What {@link #start} did with a readable connection. */
  enum Start {
    /** An exchange runs on the loop; its key is the exchange's now. */
    STARTED,
    /** Nothing came yet (a spurious wake): park it again. */
    WAITING,
    /** The client left, or the connection must close: end it. */
    ENDED,
    /** Not the loop's to serve: hand it to the executor, its bytes unread. */
    HAND_OVER
  }

  /**
   * Reads what a parked connection's client sent and starts its exchange here if the loop can
   * serve it; otherwise says what the loop should do with the connection.
   */
  static Start start(EventLoop loop, ClientConnection connection, SelectionKey key) {
    ConnectionInput in = connection.input();
    if (!connection.beginReadOnLoop()) {
      return Start.ENDED; // the proxy stops, and nothing came
    }
    int read;
    try {
      read = in.fillNonBlocking(connection.channel());
    } catch (IOException e) {
      read = BROKEN;
    }
    if (!connection.endReadOnLoop() || read == BROKEN) {
      return Start.ENDED;
    }
    if (read < 0 && !in.hasBuffered()) {
      return Start.ENDED;
    }
    // An end of stream behind requests already read (a client that pipelined them, then
    // half-closed): they are served as any, each exchange finding the end as its client's.
    if (!in.hasBuffered()) {
      return Start.WAITING;
    }
    if (!in.scanBuffered(HEAD_WHOLE)) {
      // A head in pieces (one larger than a network segment, or a slow client's): the rest is
      // awaited here, as the idle parker awaits it; the threads take what they judge (a head
      // cut by the client's end, blank lines, one too long or malformed, one past its deadline).
      return read >= 0 && !UnreadInput.blankLinesOnly(in) && connection.awaitOnLoop()
          ? Start.WAITING : Start.HAND_OVER;
    }
    int mark = in.bufferPos();
    LoopExchange exchange = null;
    try {
      exchange = prepare(loop, connection, key);
    } catch (IOException | RuntimeException e) {
      log.debug("loop_hand_over conn={} error={}", connection.id(), e.toString());
    }
    if (exchange == null) {
      in.rewindTo(mark);
      // A small body still arriving (one larger than a network segment): awaited here as a head
      // in pieces is, then served here or handed over whole. Asked only of what the loop did not
      // take, so that no other request pays the scan.
      return read >= 0 && in.measureBuffered(smallBodyPending(loop.server().configuration())) >= 0
          && connection.awaitOnLoop() ? Start.WAITING : Start.HAND_OVER;
    }
    if (!in.hasBuffered()) {
      // Nothing pipelined behind the request: its buffer goes back to the pool for the exchange's
      // time, as a parked connection's does, rather than be held (a proxy with a thousand
      // clients in flight allocated a buffer for a third of its requests, the pool run dry).
      in.dropBuffer();
    }
    exchange.begin();
    return Start.STARTED;
  }

  /** Parses the head and checks that the loop may serve it; null if it may not. */
  private static LoopExchange prepare(EventLoop loop, ClientConnection connection, SelectionKey key)
      throws IOException {
    RealProxyServer server = loop.server();
    ProxyConfig config = server.configuration();
    Pipeline pipeline = server.pipeline();
    if (!pipeline.loopServes()) {
      return null;
    }
    RequestHead head = new HeadParser(connection.input(), loop.lineScratch, loop.recentValues,
        config.maxRequestLineBytes(), config.maxHeaderBytes(), config.maxHeaderCount()).readRequest();
    boolean forward = pipeline.routes() == null;
    if (!LoopEligibility.plain(head) || forward && !LoopEligibility.absoluteHttp(head.target())) {
      return null;
    }
    Headers received = head.headers();
    String requestId = RequestIds.keepOrGenerate(received, config.requestIdHeader());
    TraceContext trace = TraceContext.continueOrStart(received);
    InboundRequest.Parsed parsed = InboundRequest.parse(head,
        InboundRequest.reverseAuthority(config, connection.localAddress()), !forward, false,
        config.maxRequestBodyBytes());
    long bodyLength = parsed.bodyLength();
    // A body kept whole for a retry, as the threads keep one within the retry buffer: a longer
    // one goes to them, whose retries follow what of it they could keep.
    if (parsed.refusal() != null || parsed.expectContinue() || parsed.toProxyItself() || bodyLength < 0
        || bodyLength > Math.min(LoopEligibility.MAX_BODY_BYTES, config.retryBufferBytes())
        || connection.input().buffered() < bodyLength) {
      return null;
    }
    // GET, HEAD, DELETE and OPTIONS come without a body (plain): null. The others' body, empty or not, is taken
    // now, as the request is built: one handed over after all is parsed again from the head, its
    // body still in the buffer (start rewinds to the head's mark). Replayable, so that a retry
    // may send it again (Attempts asks), as the threads' is.
    byte[] content = null;
    if (Methods.readsContent(head.method())) {
      content = new byte[(int) bodyLength];
      connection.input().takeBuffered(ByteBuffer.wrap(content), bodyLength);
      parsed.request().body(ReplayableBody.of(Body.of(content), content.length));
    }
    Headers.Builder fields = trace.propagate(received).set(config.requestIdHeader(), requestId);
    HopByHop.applyClientOptions(received, fields, config.requestIdHeader(), "traceparent");
    OwnFields.dropUnderscoreSpellings(received, fields, config.requestIdHeader());
    if (!forward) {
      UpstreamFields.dropClientForwarding(received, fields);
    }
    // The filters run as on the threads: the proxy's on the request, then, in a reverse proxy,
    // the route matched with what they pass on, then the route's.
    LoopChecks checks = LoopChecks.of(connection.clientAddress(), parsed.request().headers(fields.build()).build(),
        forward);
    if (!checks.pass(pipeline.filters())) {
      return refused(loop, connection, key, head, null, requestId, trace, parsed.hostNamed(), checks);
    }
    if (forward) {
      return forward(loop, connection, key, head, checks, content, requestId, trace, parsed.hostNamed());
    }
    Optional<LiveRoute> matched = pipeline.routes().match(checks.request());
    if (matched.isEmpty()) {
      return unrouted(loop, connection, key, head, pipeline.routes(), requestId, trace, parsed.hostNamed(), checks);
    }
    if (!checks.pass(matched.get().filters())) {
      return refused(loop, connection, key, head, matched.get(), requestId, trace, parsed.hostNamed(), checks);
    }
    Request request = checks.request();
    HttpCache cache = server.httpCache();
    LoopFetch fetch = null;
    boolean invalidates = cache != null && !Methods.isSafe(request.method());
    if (invalidates && !cache.storeInMemory()) {
      // What an unsafe method names is invalidated after its answer (RFC 9111 §4.4), on a route
      // without the cache too: one that caches may serve its URL. An application's store may
      // wait on its network to do it: the threads do.
      return null;
    }
    if (cache != null && matched.get().route().cacheEnabled()) {
      if (!cache.storeInMemory() || !HttpCache.looksUp(request.method())) {
        // An application's store may wait on its network: the threads look it up. What the
        // cache does with other methods (an unsafe one's invalidation, a POST answer it may
        // keep, BYPASS on the answer) is the threads' cache's.
        return null;
      }
      // The filters a loop runs change no authority: the client's is the request's, as the
      // threads see it.
      String partition = HttpCache.partition(matched.get().cachePartition(), request, request.authority(),
          parsed.hostNamed());
      if (connection.closeRequested()) {
        return null; // the threads serve what came, saying the connection closes, or end it
      }
      HttpCache.LoopLookup found = cache.lookUpOnLoop(request, partition);
      fetch = found.fetch();
      if (fetch == null) {
        return stored(loop, connection, key, head, request, matched.get(), requestId, trace,
            parsed.hostNamed(), found, checks);
      }
    }
    LoopExchange exchange = null;
    try {
      exchange = routed(loop, connection, key, head, matched.get(), checks, content, requestId, trace,
          parsed.hostNamed(), fetch);
      if (exchange != null && invalidates) {
        exchange.invalidatingAfterAnswer(cache);
      }
      return exchange;
    } finally {
      madeOrWithdrawn(fetch, exchange);
    }
  }

  /**
   * A reverse proxy's request on {@code route}, passed by the filters ({@code checks}), with the
   * cache's {@code fetch} to make (null: none): the exchange that sends it through the route's pool,
   * what a filter's cost answers instead, or null where the threads serve it.
   */
  private static LoopExchange routed(EventLoop loop, ClientConnection connection, SelectionKey key,
      RequestHead head, LiveRoute route, LoopChecks checks, byte[] content, String requestId,
      TraceContext trace, boolean hostNamed, LoopFetch fetch) {
    if (!LoopEligibility.loopable(route.pool())) {
      return null;
    }
    String prefix = StrippedPrefix.of(route.route(), checks.request().target());
    String upstreamTarget = null;
    if (!prefix.isEmpty()) {
      try {
        upstreamTarget = StrippedPrefix.rest(prefix, checks.request().target());
      } catch (HttpFailureException climbsOut) {
        return null; // the threads answer it 400, as they always did
      }
    }
    LivePool pool = route.pool();
    try {
      pool.admit();
    } catch (HttpFailureException overloaded) {
      return null; // the blocking path answers it, as it would have
    }
    if (!pool.tryAcquireConnection()) {
      pool.release();
      return null; // it waits for a connection on a thread
    }
    if (!connection.serveOnLoop()) {
      pool.releaseConnection();
      pool.release();
      return null; // asked to close: the blocking path serves what came, or ends it
    }
    // Taken once the loop serves the request: one it handed over would take a token again.
    Refusal spent = checks.take();
    if (spent != null) {
      pool.releaseConnection();
      pool.release();
      return refusing(loop, connection, key, head, route, requestId, trace, hostNamed, checks, spent);
    }
    return new LoopExchange(loop, connection, key, head, checks.request(), route, requestId,
        trace.traceId(), hostNamed).sending(content).sendingTo(upstreamTarget).answeringThrough(checks)
        .fetching(fetch);
  }

  /**
   * Withdraws {@code fetch} (null: none) unless {@code exchange} makes it: the misses of its URL
   * have waited on it since its lookup, and no exchange will tell them anything (the threads
   * serve the request after all, or a filter's cost refused it; null also if the admission failed).
   */
  private static void madeOrWithdrawn(LoopFetch fetch, LoopExchange exchange) {
    if (fetch != null && (exchange == null || exchange.refused())) {
      fetch.withdraw();
    }
  }

  /**
   * A forward proxy's request to an {@code http} origin, passed by the proxy's filters
   * ({@code checks}): the exchange that sends it there, or, with a cache, that sends what the
   * store answers, or makes the cache's fetch (null where the threads fetch: a miss that would
   * wait).
   */
  private static LoopExchange forward(EventLoop loop, ClientConnection connection, SelectionKey key,
      RequestHead head, LoopChecks checks, byte[] content, String requestId, TraceContext trace,
      boolean hostNamed) {
    HttpCache cache = loop.server().httpCache();
    LoopFetch fetch = null;
    if (cache != null) {
      if (!cache.storeInMemory() || !HttpCache.looksUp(head.method()) || checks.awaitsAddresses()) {
        // An application's store may wait on its network, and an unsafe method invalidates
        // what it names: the threads do both. A hit connects nowhere: where the access rules
        // wait on the addresses a name has, the threads look them up before they serve one.
        return null;
      }
      Request request = checks.request();
      String partition = HttpCache.partition("", request, request.authority(), hostNamed);
      if (connection.closeRequested()) {
        return null; // the threads serve what came, saying the connection closes, or end it
      }
      HttpCache.LoopLookup found = cache.lookUpOnLoop(request, partition);
      fetch = found.fetch();
      if (fetch == null) {
        return stored(loop, connection, key, head, request, null, requestId, trace, hostNamed, found, checks);
      }
    }
    LoopExchange exchange = null;
    try {
      exchange = forwarded(loop, connection, key, head, checks, content, requestId, trace, hostNamed, fetch);
      return exchange;
    } finally {
      madeOrWithdrawn(fetch, exchange);
    }
  }

  /** As {@link #routed}, for a forward proxy's request: the exchange that sends it to its origin. */
  private static LoopExchange forwarded(EventLoop loop, ClientConnection connection, SelectionKey key,
      RequestHead head, LoopChecks checks, byte[] content, String requestId, TraceContext trace,
      boolean hostNamed, LoopFetch fetch) {
    if (!connection.serveOnLoop()) {
      return null; // asked to close: the blocking path serves what came, or ends it
    }
    Refusal spent = checks.take();
    if (spent != null) {
      return refusing(loop, connection, key, head, null, requestId, trace, hostNamed, checks, spent);
    }
    return new LoopExchange(loop, connection, key, head, checks.request(), null, requestId,
        trace.traceId(), hostNamed).sending(content).answeringThrough(checks).fetching(fetch);
  }

  /**
   * A request the cache serves (on a caching route, or to a forward proxy with a cache, {@code
   * route} null then), as the store {@code found} it without a fetch for the loop: the exchange
   * that sends the store's answer, or null when it has none (a miss that would wait), which the
   * threads then serve. {@code checks}: the filters that passed the request,
   * whose costs are taken if it is answered here (null: none).
   */
  private static LoopExchange stored(EventLoop loop, ClientConnection connection, SelectionKey key,
      RequestHead head, Request request, LiveRoute route, String requestId, TraceContext trace,
      boolean hostNamed, HttpCache.LoopLookup found, LoopChecks checks) {
    if (found.answer() == null) {
      return null; // the threads fetch it, or wait for another request's fetch of its URL
    }
    // The store was asked before the filters' costs are taken, so that a request the threads
    // serve takes no token twice; its answer counts once it is the one sent.
    LoopExchange exchange = answering(loop, connection, key, head, request, route, requestId, trace,
        hostNamed, checks, found.answer(), found.verdict());
    if (exchange != null && !exchange.refused()) {
      found.answered();
    }
    return exchange;
  }

  /**
   * The exchange that sends {@code answer}, whole (the store's, its cache verdict {@code verdict},
   * or the proxy's own), as the response rewrites of {@code checks} return it (null: no filters),
   * once what passing them costs is taken; what they answer instead if it cannot be (a 429); null
   * if the connection was asked to close.
   */
  private static LoopExchange answering(EventLoop loop, ClientConnection connection, SelectionKey key,
      RequestHead head, Request request, LiveRoute route, String requestId, TraceContext trace,
      boolean hostNamed, LoopChecks checks, Response answer, String verdict) {
    if (!connection.serveOnLoop()) {
      return null;
    }
    Refusal spent = checks == null ? null : checks.take();
    LoopExchange exchange = new LoopExchange(loop, connection, key, head, request, route, requestId,
        trace.traceId(), hostNamed);
    if (spent != null) {
      exchange.refuseWith(spent);
    } else {
      exchange.answerWith(checks == null ? answer : checks.answer(answer), verdict);
    }
    return exchange;
  }

  /**
   * A request no route of {@code routes} matches, passed by the proxy's filters ({@code checks}),
   * answered as the threads answer it: redirected to its path with a slash where that is a prefix
   * route's ({@link RouteTable#slashRedirect}), through the proxy's response rewrites; else 404
   * ({@code NO_ROUTE}); or 429 if a rate limit before has no token.
   * Null where the threads decide (the connection asked to close).
   */
  private static LoopExchange unrouted(EventLoop loop, ClientConnection connection, SelectionKey key,
      RequestHead head, RouteTable routes, String requestId, TraceContext trace, boolean hostNamed,
      LoopChecks checks) {
    if (connection.closeRequested()) {
      return null; // the threads answer it, saying the connection closes
    }
    Request request = checks.request();
    Response moved = routes.slashRedirect(request);
    if (moved == null) {
      if (!connection.serveOnLoop()) {
        return null;
      }
      Refusal spent = checks.take();
      return refusing(loop, connection, key, head, null, requestId, trace, hostNamed, checks,
          spent != null ? spent : Refusal.error(new HttpFailureException(ProxyFailure.NO_ROUTE,
              "no route matches its host, path and method")));
    }
    return answering(loop, connection, key, head, request, null, requestId, trace, hostNamed, checks, moved, null);
  }

  /**
   * A request the filters in {@code checks} answer themselves (403, 401, 407, 429), before the
   * request reached {@code route} (null: the proxy's own filters answered, or no route matched) or
   * on it: the exchange that sends their answer ({@link LoopChecks#refusal}), or null where the
   * threads decide (a filter a loop may not run; the connection asked to close).
   */
  private static LoopExchange refused(EventLoop loop, ClientConnection connection, SelectionKey key,
      RequestHead head, LiveRoute route, String requestId, TraceContext trace, boolean hostNamed,
      LoopChecks checks) {
    if (connection.closeRequested()) {
      return null; // the threads answer it, saying the connection closes
    }
    Refusal refusal = checks.refusal();
    if (refusal == null || !connection.serveOnLoop()) {
      return null;
    }
    return refusing(loop, connection, key, head, route, requestId, trace, hostNamed, checks, refusal);
  }

  /** The exchange that sends {@code refusal} for a request the loop serves already. */
  private static LoopExchange refusing(EventLoop loop, ClientConnection connection, SelectionKey key,
      RequestHead head, LiveRoute route, String requestId, TraceContext trace, boolean hostNamed,
      LoopChecks checks, Refusal refusal) {
    LoopExchange exchange = new LoopExchange(loop, connection, key, head, checks.request(), route, requestId,
        trace.traceId(), hostNamed);
    exchange.refuseWith(refusal);
    return exchange;
  }
}
