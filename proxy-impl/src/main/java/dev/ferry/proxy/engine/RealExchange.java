package dev.ferry.proxy.engine;

import dev.ferry.proxy.ContentTooLargeException;
import dev.ferry.proxy.Exchange;
import dev.ferry.proxy.Headers;
import dev.ferry.proxy.ProxyConfig;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.Route;
import dev.ferry.proxy.engine.admin.AdminEndpoints;
import dev.ferry.proxy.engine.admin.CrossSiteGuard;
import dev.ferry.proxy.engine.cache.CacheAdmin;
import dev.ferry.proxy.engine.cache.HttpCache;
import dev.ferry.proxy.engine.filter.FilterException;
import dev.ferry.proxy.engine.filter.ProxyAnswer;
import dev.ferry.proxy.engine.filter.RealChain;
import dev.ferry.proxy.engine.filter.TunnelCredentials;
import dev.ferry.proxy.engine.http1.Framing;
import dev.ferry.proxy.engine.http1.HopByHop;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.LogValues;
import dev.ferry.proxy.engine.http1.LoggedUrls;
import dev.ferry.proxy.engine.http1.MaxForwards;
import dev.ferry.proxy.engine.http1.ProxyFailure;
import dev.ferry.proxy.engine.http1.RequestHead;
import dev.ferry.proxy.engine.http1.ResponseHead;
import dev.ferry.proxy.engine.route.DispatchHooks;
import dev.ferry.proxy.engine.route.LiveEndpoint;
import dev.ferry.proxy.engine.route.LiveRoute;
import dev.ferry.proxy.engine.route.RouteTable;
import dev.ferry.proxy.engine.trace.RequestIds;
import dev.ferry.proxy.engine.trace.TraceContext;
import dev.ferry.proxy.engine.tls.ClientCertFields;
import dev.ferry.proxy.engine.upstream.ClientWatch;
import dev.ferry.proxy.engine.upstream.DestinationCheck;
import dev.ferry.proxy.engine.upstream.Forwarder;
import dev.ferry.proxy.engine.upstream.HostNames;
import dev.ferry.proxy.engine.upstream.UndecidedDestination;
import dev.ferry.proxy.engine.upstream.UpstreamBody;
import dev.ferry.proxy.engine.upstream.UpstreamConnection;
import dev.ferry.proxy.engine.upstream.UpstreamFields;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request-response exchange on a client connection: runs the filter chain and the
 * forwarder, writes the response, then reports and cleans up. It decides whether the
 * connection may carry another request.
 *
 * <p>Bodies: every body the terminal stage produced, and the body of the response sent, is closed
 * when the exchange ends, so a response a filter replaced still returns its upstream connection
 * or cache slot (closing a body read to its end does nothing).
 *
 * <p>Size: about 600 lines, a third of them the accessors of {@link Exchange} (what filters and
 * listeners read) and of {@link DispatchHooks} (what routing and the forwarder report back).
 */
final class RealExchange implements Exchange, DispatchHooks {
  private static final Logger log = LoggerFactory.getLogger(RealExchange.class);
  /** See {@link #abandonIfClientLeftMeanwhile}. */
  private static final long SLOW_BEFORE_UPSTREAM_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final RealProxyServer server;
  private final ClientConnection connection;
  private final long id;
  private final int sequence;
  private final RequestHead head;
  private final Instant startTime;
  private final long startNanos;
  private final List<Closeable> owned = new ArrayList<>(2);
  private Request request;
  private ClientBody clientBody;
  /** A body awaited whole that never arrived whole (see {@link #arrivalFailure}); else null. */
  private HttpFailureException arrivalFailure;
  /** How much of that body arrived. */
  private long arrivedBodyBytes;
  private UpstreamConnection tunnel;
  private String upstream;
  private LiveRoute route;
  private LiveEndpoint endpoint;
  private boolean interimSent;
  /** A forward proxy's {@code OPTIONS *}: the proxy answers it (see {@link InboundRequest.Parsed}). */
  private boolean toProxyItself;
  /** The answer to a well-formed head the proxy refuses without running filters; null to serve it. */
  private HttpFailureException refusal;
  /** A loopback client's request to a forward proxy's own endpoints ({@code /_stats}...). */
  private boolean toAdmin;
  /** False when the client named no host and the request's authority stands in for one. */
  private boolean hostNamed = true;
  /** The filters and routes this exchange runs through, taken together when it begins. */
  private Pipeline pipeline;
  private int staleRetries;
  /** Whether the request goes upstream through the cache, whose fill outlives its client. */
  private boolean throughCache;
  private String requestId;
  private TraceContext trace;
  private ExchangeTally tally;
  private String cacheVerdict;
  private Map<Class<?>, Object> attributes;
  private int status;
  private long bodyBytes;
  private String failure;

  RealExchange(RealProxyServer server, ClientConnection connection, int sequence, RequestHead head,
      Instant startTime, long startNanos) {
    this.server = server;
    this.connection = connection;
    this.id = server.nextExchangeId();
    this.sequence = sequence;
    this.head = head;
    this.startTime = startTime;
    this.startNanos = startNanos;
  }

  /** Runs the exchange; returns true if the connection may read another request. */
  boolean run() throws IOException {
    boolean admin = isAdminRequest();
    tally = new ExchangeTally(server.metrics(), !admin);
    if (admin) {
      try {
        Response refused = adminRequest();
        Response response = refused != null ? refused : runChain();
        return response != null && respond(response);
      } finally {
        finish();
      }
    }
    try {
      if (!parseRequest()) {
        return false;
      }
      server.listeners().each(l -> l.exchangeStarted(this));
      if (log.isDebugEnabled()) {
        log.debug("request_start method={} uri={} client={} conn={} ex={}", request.method(),
            LogValues.of(LoggedUrls.redact(request.url())), connection.clientText(), connection.id(), id);
      }
      if (arrivalFailure != null) {
        answerAndClose(arrivalFailure);
        return false;
      }
      Response response = refusal != null ? failWith(refusal) : runChain();
      return response != null && respond(response);
    } finally {
      finish();
    }
  }

  /** Builds the request from the head; on a bad head answers it and returns false. */
  private boolean parseRequest() {
    ProxyConfig config = server.configuration();
    // Before the checks, so that a refused request's answer and log lines carry its ID too.
    requestId = RequestIds.keepOrGenerate(head.headers(), config.requestIdHeader());
    trace = TraceContext.continueOrStart(head.headers());
    InboundRequest.Parsed parsed;
    RequestArrival.ChunkedBody chunked;
    try {
      String intercepted = connection.interceptAuthority();
      parsed = InboundRequest.parse(head, intercepted != null ? intercepted
          : InboundRequest.reverseAuthority(config, connection.localAddress()),
          intercepted == null && config.isReverse(),
          connection.isTls(), config.maxRequestBodyBytes());
      refusal = parsed.refusal();
      chunked = parsed.bodyLength() == Framing.CHUNKED && refusal == null ? connection.chunkedBody() : null;
      if (refusal == null && parsed.bodyLength() != 0) {
        arrivalFailure = arrivalFailure(chunked);
      }
    } catch (HttpFailureException e) {
      answerAndClose(e);
      return false;
    }
    // The upstream sees the exchange's ID and, as its parent, the proxy's own span.
    Headers.Builder fields = trace.propagate(head.headers()).set(config.requestIdHeader(), requestId);
    HopByHop.applyClientOptions(head.headers(), fields, config.requestIdHeader(), "traceparent");
    OwnFields.dropUnderscoreSpellings(head.headers(), fields, config.requestIdHeader());
    if (config.isReverse()) {
      UpstreamFields.dropClientForwarding(head.headers(), fields);
    }
    Request.Builder builder = parsed.request().headers(fields.build());
    if (refusal != null) {
      // Its body is never read: the answer goes with Connection: close, then a lingering close.
      connection.linger().ask(parsed.bodyLength() - connection.bufferedBodyBytes(parsed.bodyLength()));
    } else if (arrivalFailure != null) {
      // Chunked, its data bytes, not its framing's (probe v32: 20 for 10).
      arrivedBodyBytes = chunked != null ? chunked.dataBytes() : connection.bufferedBodyBytes(parsed.bodyLength());
    } else if (parsed.bodyLength() != 0) {
      clientBody = connection.openBody(parsed.bodyLength(), chunked,
          parsed.expectContinue());
      builder.body(clientBody);
    }
    if (connection.interceptAuthority() != null) {
      // Inside an intercepted CONNECT the origin is the tunnel's target, over TLS, whatever the
      // request's Host says (the CONNECT's checks were made for that target).
      builder.scheme("https").authority(connection.interceptAuthority());
      if (connection.interceptCredentials() != null) {
        attribute(TunnelCredentials.class, new TunnelCredentials(connection.interceptCredentials()));
      }
    }
    request = builder.build();
    toProxyItself = parsed.toProxyItself();
    hostNamed = parsed.hostNamed();
    return true;
  }

  /**
   * What went wrong with a body awaited whole before the exchange, if anything. The request is
   * whole and built, so the exchange starts and is reported with its URL like any other (probe
   * e26: listeners saw it complete without a start, its URL relative and its body 0 bytes).
   */
  private HttpFailureException arrivalFailure(RequestArrival.ChunkedBody chunked) {
    if (chunked != null && chunked.refusal() != null) {
      return chunked.refusal();
    }
    if (connection.bodyOverdue()) {
      // nginx too answers a body that stalled while buffered without connecting upstream: the
      // upstream would get a head and part of a body, then a closed connection.
      return new HttpFailureException(ProxyFailure.REQUEST_TIMEOUT, "request body not received in time");
    }
    if (connection.bodyUnstored()) {
      // nginx answers 500 when it cannot write a body to its temporary file; this is no room.
      return new HttpFailureException(ProxyFailure.OVERLOADED, "no room to store the request body");
    }
    if (connection.bodyAbandoned()) {
      // Left unaccounted, an upload the client gave up on vanished from logs and counters. Cut by
      // a stop whose grace ended, it is the stop's (probe v30).
      return connection.stoppedByProxy()
          ? new HttpFailureException(ProxyFailure.PROXY_STOPPED, "the proxy stopped before the whole request body arrived")
          : new HttpFailureException(ProxyFailure.CLIENT_CLOSED, "client left before its whole request body arrived");
    }
    return null;
  }

  /** Answers a request that cannot go on with {@code e}'s error, and closes the connection after. */
  private void answerAndClose(HttpFailureException e) {
    failure = e.failure().name();
    tally.beforeSending(e.failure().status(), failure);
    connection.linger().ask();
    ResponseSender.Outcome sent = connection.sendError(e, head.headers(), requestId,
        head.method().equals("HEAD"));
    if (sent != null) {
      status = sent.status();
      bodyBytes = sent.bodyBytes();
    }
  }

  /**
   * Runs filters and the terminal stage; returns the response, or null if none can be sent. A
   * forward proxy answers its admin paths itself for loopback clients (never forwarded).
   */
  private Response runChain() {
    try {
      pipeline = server.pipeline();
      return RealChain.run(pipeline.filters(), this, request, this::terminal);
    } catch (FilterException e) {
      if (connection.stoppedByProxy()) {
        // The stop closed the client and interrupted the filter: its failure is the stop's.
        return failWith(new HttpFailureException(ProxyFailure.PROXY_STOPPED,
            "the proxy stopped while filter " + e.filterName() + " ran"));
      }
      log.error("filter_failed filter={} conn={} ex={}", e.filterName(), connection.id(), id, e);
      return failWith(new HttpFailureException(ProxyFailure.FILTER_FAILED, e.publicDetail()));
    } catch (ContentTooLargeException e) {
      return failWith(HttpFailureException.bodyTooLarge(e));
    } catch (HttpFailureException e) {
      return failWith(e);
    } catch (IOException e) {
      log.debug("exchange_failed failure={} error={} conn={} ex={}",
          ProxyFailure.UPSTREAM_BAD_RESPONSE, LogValues.quoted(e.toString()), connection.id(), id);
      return failWith(new HttpFailureException(ProxyFailure.UPSTREAM_BAD_RESPONSE,
          "I/O error in the exchange"));
    }
  }

  private Response failWith(HttpFailureException e) {
    failure = e.failure().name();
    logFailure(e);
    return e.failure().status() == 0 ? null : server.errorPages().render(e, head.headers());
  }

  /**
   * {@code GET /_stats} and friends, in origin-form and without a body, to a forward proxy from
   * this machine: answered here, never forwarded (in reverse mode such paths are the upstream's).
   */
  private boolean isAdminRequest() {
    ProxyConfig config = server.configuration();
    String target = head.target();
    int query = target.indexOf('?');
    String path = query < 0 ? target : target.substring(0, query);
    return !config.isReverse() && config.statsOnProxyPort() && AdminEndpoints.servesOnProxyPort(path)
        && connection.interceptAuthority() == null
        && connection.clientAddress().getAddress().isLoopbackAddress()
        && head.headers().all("Content-Length").stream().allMatch(v -> v.trim().equals("0"))
        && !head.headers().contains("Transfer-Encoding");
  }

  /**
   * Builds the request to the proxy's own endpoints, which then goes through the proxy-wide
   * filters like any other (access rules on clients, authentication, limits), the endpoints
   * standing for the upstream; returns the answer to a request refused before that, else null.
   */
  private Response adminRequest() {
    ProxyConfig config = server.configuration();
    requestId = RequestIds.keepOrGenerate(head.headers(), config.requestIdHeader());
    trace = TraceContext.continueOrStart(head.headers());
    request = Request.builder().method(head.method()).version(head.version())
        .authority(HostNames.authorityText(connection.localAddress().getAddress(), connection.localAddress().getPort()))
        .target(head.target()).headers(head.headers()).build();
    toAdmin = true;
    try {
      // The Host the cross-site guard reads must be the request's only one.
      InboundRequest.singleHost(head);
    } catch (HttpFailureException e) {
      return failWith(e);
    }
    return null;
  }

  /** The proxy's own endpoints' answer, at the end of the filter chain. */
  private Response adminAnswer(Request request) {
    return CrossSiteGuard.refusal(request, connection.localAddress().getAddress().isLoopbackAddress())
        .or(() -> server.adminEndpoints().handle(request))
        .orElseGet(() -> server.errorPages().render(new HttpFailureException(ProxyFailure.NO_ROUTE,
            "no such endpoint of the proxy's own"), head.headers()));
  }

  /** Writes the response (or starts the tunnel); returns true if the connection stays open. */
  private boolean respond(Response response) throws IOException {
    status = response.status();
    boolean connect = request.method().equals("CONNECT");
    boolean intercepting = connect && status / 100 == 2 && server.interception() != null
        && server.interception().intercepts(request.host());
    // A filter's 2xx to a CONNECT it intercepts (a testkit replay, a mock) opens a session
    // without a tunnel to the origin: its requests go there, or to the filters, as usual.
    boolean tunnelling = (tunnel != null && (status == 101 || (connect && status / 100 == 2)))
        || intercepting;
    boolean unreadBody = clientBody != null && !clientBody.drainable();
    boolean wantsClose = !connection.clientKeepsAlive(head) || server.isStopping()
        || server.executor().shouldShedKeepAlive()
        || (failure != null && ProxyFailure.valueOf(failure).closeConnection())
        // A refused CONNECT: whatever follows is the client's tunnel bytes, not a request.
        || (connect && !tunnelling)
        || unreadBody;
    if (connect && !tunnelling) {
      connection.linger().ask();
    }
    ProxyAnswer answer = attribute(ProxyAnswer.class).orElse(null);
    if (failure == null && answer != null && answer.status() == status) {
      // A built-in filter answered (401, 407, 429): the proxy's own answer, logged as such and
      // dressed as its error page.
      failure = answer.failure().name();
      response = server.errorPages().render(response, answer.failure(), head.headers());
    }
    tally.failure(failure);
    int leaving = status;
    Runnable countStatus = () -> tally.statusOnce(leaving);
    connection.sender().whenHeadLeaves(countStatus);
    String idHeader = server.configuration().requestIdHeader();
    owned.add(response.body());
    if (server.listeners().wantsResponseHeaders()) {
      Response sent = response.withHeader(idHeader, requestId);
      server.listeners().each(l -> l.responseHeaders(this, sent));
      // A listener may have stopped the proxy: this answer then says so (probe e13).
      wantsClose = wantsClose || server.isStopping();
    }
    if (wantsClose && clientBody != null && !clientBody.isComplete()) {
      // The rest of the body may still be on its way, however little is left (an upstream
      // answered early, and the client asked to close): closing with it unread would reset the
      // answer (probe l22), so the close lingers, for all of it when its length is known.
      connection.linger().ask(clientBody.unreadBytes());
    }
    ResponseSender.Outcome outcome;
    try {
      // RFC 9110 §9.3.6: a 2xx to a CONNECT has no framing and no content, tunnel or not (a
      // filter's answer the proxy cannot tunnel: its head, then the close).
      outcome = connection.sender().send(response, idHeader, requestId,
          request.method().equals("HEAD"), head.minorVersion(), wantsClose,
          tunnelling || connect && status / 100 == 2);
    } catch (HttpFailureException e) {
      failure = e.failure().name();
      logFailure(e);
      if (e.failure().status() == 0) {
        // The exchange ends with this status, whether or not its head got out.
        countStatus.run();
        bodyBytes = connection.sender().bodyBytesSoFar();
        if (e.failure() == ProxyFailure.RESPONSE_ABORTED) {
          // Nothing more is for the client to read: a lingering close would flush what of the
          // head is still buffered (a filter's body failing before its first byte: a drop).
          connection.linger().cancel();
          if (connection.sender().closeDelimited()) {
            connection.resetOnClose();
          }
        }
        return false;
      }
      // Nothing of the response had left, nor was its status counted: the client gets the error
      // in its place.
      status = e.failure().status();
      tally.beforeSending(status, failure);
      connection.linger().ask();
      ResponseSender.Outcome sent = connection.sendError(e, head.headers(), requestId,
          request.method().equals("HEAD"));
      bodyBytes = sent == null ? 0 : sent.bodyBytes();
      return false;
    }
    bodyBytes = outcome.bodyBytes();
    if (tunnelling) {
      if (intercepting) {
        // The connection goes on carrying the decrypted session, if there is one.
        return connection.intercept(tunnel, request.host(), request.port(),
            head.headers().first("Proxy-Authorization").orElse(null));
      }
      connection.tunnelAfterExchange(tunnel);
      return false;
    }
    return !wantsClose && !outcome.closeDelimited() && finishRequestBody();
  }

  private Response terminal(Request request) throws IOException {
    owned.add(request.body());
    abandonIfClientLeftMeanwhile();
    Response response = terminalResponse(request);
    owned.add(response.body());
    return response;
  }

  /**
   * An exchange that took a second or more to get here (a slow filter, an injected latency, a
   * body awaited long) looks for its client first: one that left meanwhile has nothing sent
   * upstream for it (probe t28: a request abandoned during an injected latency still reached the
   * origin). Quicker ones are not looked at: the look is a timed read.
   */
  private void abandonIfClientLeftMeanwhile() throws HttpFailureException {
    if (System.nanoTime() - startNanos >= SLOW_BEFORE_UPSTREAM_NANOS && connection.clientGone()) {
      throw new HttpFailureException(ProxyFailure.CLIENT_CLOSED,
          "client closed the connection before its request was sent upstream");
    }
  }

  private Response terminalResponse(Request request) throws IOException {
    if (toAdmin) {
      return adminAnswer(request);
    }
    if (request.method().equals("CONNECT")) {
      if (!head.method().equals("CONNECT")) {
        // A tunnel is a forward proxy's client's own request. Made by a filter (a method
        // override), it reached any host and port a reverse proxy's client named (probe e14).
        throw new HttpFailureException(ProxyFailure.FILTER_FAILED,
            "a filter turned the request into a CONNECT; only a client's own CONNECT opens a tunnel");
      }
      return server.forwarder().connect(request, this);
    }
    if (toProxyItself || MaxForwards.remaining(request) == 0) {
      return FinalRecipient.answer(request, head, !server.configuration().isReverse());
    }
    if (pipeline.routes() != null) {
      return routed(pipeline.routes(), request);
    }
    HttpCache cache = server.httpCache();
    if (cache != null && CacheAdmin.isPurge(request)) {
      return server.cacheAdmin().purge(request, connection.clientAddress());
    }
    if (cache == null || Forwarder.isUpgrade(request)) {
      Response response = server.forwarder().forward(request, this);
      if (cache != null) {
        // An upgrade the origin declined is an ordinary answer: a DELETE's 200 still invalidates
        // (probe poison2), as on the routed path.
        cache.invalidateAfter(request, response);
      }
      return response;
    }
    if (attribute(UndecidedDestination.class).isPresent()) {
      // A hit connects nowhere, so the access rules waiting on the host's addresses run now.
      server.forwarder().vet(request, this);
    }
    throughCache = true;
    return cache.handle(request, cachePartition("", request), server.configuration().upstreamTimeout(),
        requestedAuthority(),
        forwarded -> server.forwarder().forward(forwarded, this), verdict -> cacheVerdict = verdict);
  }

  /**
   * Reverse mode: the first matching route (404 without one), its own filters, the cache unless
   * the route turns it off, then the pool.
   */
  private Response routed(RouteTable routes, Request request) throws IOException {
    route = routes.match(request).orElse(null);
    if (route == null) {
      Response moved = routes.slashRedirect(request);
      if (moved == null) {
        throw new HttpFailureException(ProxyFailure.NO_ROUTE, "no route matches its host, path and method");
      }
      return moved;
    }
    LiveRoute matched = route;
    return RealChain.run(matched.filters(), this, request, routedRequest -> {
      abandonIfClientLeftMeanwhile();
      HttpCache cache = server.httpCache();
      if (cache != null && CacheAdmin.isPurge(routedRequest)) {
        return server.cacheAdmin().purge(routedRequest, connection.clientAddress());
      }
      if (cache == null || !matched.route().cacheEnabled() || Forwarder.isUpgrade(routedRequest)) {
        Response response = server.dispatcher().dispatch(matched, routedRequest, this);
        if (cache != null) {
          cache.invalidateAfter(routedRequest, response);
        }
        return response;
      }
      throughCache = true;
      Route spec = matched.route();
      // In nanoseconds: Duration.multipliedBy goes through BigDecimal, on every request to the cache.
      Duration leaderTimeout = Duration.ofNanos(spec.timeout().orElse(server.configuration().upstreamTimeout())
          .toNanos() * (1L + spec.retry().retries()));
      // One URL may reach one pool as two requests, by two routes (one stripping a prefix, one
      // with filters of its own): the route is part of the partition (probes v22, v23).
      return cache.handle(routedRequest, cachePartition(matched.cachePartition(), routedRequest),
          leaderTimeout, requestedAuthority(),
          forwarded -> server.dispatcher().dispatch(matched, forwarded, this), verdict -> cacheVerdict = verdict);
    });
  }

  /** The cache partition of {@code request}, the client's host in it where a filter rewrote that. */
  private String cachePartition(String routePartition, Request request) {
    return HttpCache.partition(routePartition, request, requestedAuthority(), hostNamed);
  }

  /** Reads what is left of the request body so the next request starts at the right byte. */
  private boolean finishRequestBody() {
    return clientBody == null || clientBody.drain();
  }

  private void finish() {
    closeOwned();
    if (tunnel != null && !connection.ownsTunnel()) {
      tunnel.close();
    }
    long nanos = System.nanoTime() - startNanos;
    tally.finish(status, failure, nanos);
    if (server.eventLoops() != null) {
      connection.servedLoopsKind(LoopEligibility.wouldServe(head, pipeline, route, cacheVerdict,
          server.httpCache()));
    }
    if (!ExchangeReport.wanted(server, failure != null && status > 0)) {
      return; // nothing to report: build no strings for it
    }
    new ExchangeReport(id, connection.id(), connection.clientAddress(), startTime, nanos,
        request != null ? request.method() : head.method(),
        request != null ? request.url() : head.target(), head.version(), head.headers(),
        clientBody == null ? arrivedBodyBytes : clientBody.bytesRead(), status, bodyBytes,
        route == null ? null : route.name(), upstream, cacheVerdict, requestId,
        trace == null ? null : trace.traceId(), failure).emit(server, true, !toAdmin);
  }

  /** Closes every body this exchange produced or sent; those read to the end are unaffected. */
  private void closeOwned() {
    // Last taken, first closed: a body wrapping another (a cache copy around the upstream's)
    // closes before what it wraps, and may still read it to its end.
    for (int i = owned.size() - 1; i >= 0; i--) {
      try {
        owned.get(i).close();
      } catch (IOException | RuntimeException e) {
        log.debug("body_close_failed conn={} ex={} error={}", connection.id(), id, LogValues.quoted(e.toString()));
      }
    }
    owned.clear();
  }

  private void logFailure(HttpFailureException e) {
    log.debug("exchange_failed failure={} status={} detail={} conn={} ex={}", e.failure(),
        e.failure().status(), LogValues.quoted(e.detail()), connection.id(), id);
  }

  @Override
  public long id() {
    return id;
  }

  @Override
  public long connectionId() {
    return connection.id();
  }

  @Override
  public int sequence() {
    return sequence;
  }

  @Override
  public InetSocketAddress clientAddress() {
    return connection.clientAddress();
  }

  @Override
  public String clientAddressText() {
    return connection.clientAddressText();
  }

  @Override
  public InetSocketAddress localAddress() {
    return connection.localAddress();
  }

  @Override
  public Instant startTime() {
    return startTime;
  }

  @Override
  public Request request() {
    return request;
  }

  @Override
  public Mode mode() {
    return server.configuration().isReverse() ? Mode.REVERSE : Mode.FORWARD;
  }

  @Override
  public Optional<Route> route() {
    return route == null ? Optional.empty() : Optional.of(route.route());
  }

  @Override
  public Optional<String> endpoint() {
    return endpoint == null ? Optional.empty() : Optional.of(endpoint.authority());
  }

  @Override
  public void endpointChosen(LiveEndpoint chosen) {
    endpoint = chosen;
  }

  /**
   * A request through the cache is not abandoned with its client: its answer may be stored, and
   * other clients may wait for it (nginx abandons only what it will not cache, too).
   */
  @Override
  public boolean watchesClient() {
    return !throughCache && server.executor().watchesDepartedClients();
  }

  @Override
  public boolean abandonable() {
    return !throughCache;
  }

  @Override
  public ClientWatch clientWatch() {
    return throughCache ? null : connection.departureWatch();
  }

  @Override
  public boolean clientGone() {
    return connection.clientGone();
  }

  @Override
  public void staleConnectionRetried() {
    staleRetries++;
  }

  @Override
  public int staleRetries() {
    return staleRetries;
  }

  @Override
  public String requestedAuthority() {
    return request.authority();
  }

  @Override
  public boolean clientNamedHost() {
    return hostNamed;
  }

  @Override
  public boolean clientUsesTls() {
    return connection.isTls();
  }

  @Override
  public ClientCertFields clientCertFields() {
    return connection.clientCertFields();
  }

  @Override
  public boolean clientSawResponseBytes() {
    return interimSent;
  }

  @Override
  public <T> Optional<T> attribute(Class<T> key) {
    Objects.requireNonNull(key, "key");
    return attributes == null ? Optional.empty() : Optional.ofNullable(key.cast(attributes.get(key)));
  }

  @Override
  public <T> void attribute(Class<T> key, T value) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(value, "value");
    if (attributes == null) {
      attributes = new HashMap<>();
    }
    attributes.put(key, key.cast(value));
  }

  @Override
  public void upstreamConnected(UpstreamConnection upstreamConnection, boolean reused) {
    upstream = upstreamConnection.authority();
    InetSocketAddress address = (InetSocketAddress) upstreamConnection.socket().getRemoteSocketAddress();
    server.listeners().each(l -> l.upstreamConnected(this, address, reused));
  }

  @Override
  public void interim(ResponseHead interim) throws IOException {
    if (head.minorVersion() == 1) {
      interimSent = true;
      connection.sender().sendInterim(interim);
    }
  }

  @Override
  public void attach(UpstreamBody body) {
    owned.add(body);
  }

  @Override
  public DestinationCheck destinationCheck() {
    DestinationCheck policy = server.destinationPolicy();
    return attribute(DestinationCheck.class).map(policy::andThen).orElse(policy);
  }

  @Override
  public void tunnel(UpstreamConnection upstreamConnection) {
    tunnel = upstreamConnection;
  }

  @Override
  public void afterTunnel(Runnable action) {
    if (tunnel == null) {
      action.run();
    } else {
      tunnel.whenClosed(action);
    }
  }

  @Override
  public String toString() {
    return "Exchange{id=" + id + ", conn=" + connection.id() + ", request=" + request + "}";
  }
}
