package dev.ferry.proxy.engine;

import dev.ferry.proxy.ContentTooLargeException;
import dev.ferry.proxy.Exchange;
import dev.ferry.proxy.ExchangeSummary;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.engine.cache.HttpCache;
import dev.ferry.proxy.engine.filter.FilterException;
import dev.ferry.proxy.engine.filter.RealChain;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.ProxyFailure;
import dev.ferry.proxy.engine.http1.RequestHead;
import dev.ferry.proxy.engine.http1.ResponseHead;
import dev.ferry.proxy.engine.upstream.Forwarder;
import dev.ferry.proxy.engine.upstream.UpstreamBody;
import dev.ferry.proxy.engine.upstream.UpstreamConnection;
import dev.ferry.proxy.engine.upstream.UpstreamHooks;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request-response exchange on a client connection: runs the filter chain and the
 * forwarder, writes the response, then reports and cleans up. It decides whether the
 * connection may carry another request.
 */
final class RealExchange implements Exchange, UpstreamHooks {
  private static final Logger log = LoggerFactory.getLogger(RealExchange.class);
  private static final Logger access = LoggerFactory.getLogger("dev.ferry.proxy.access");
  private static final long DRAIN_LIMIT = 64 * 1024;

  private final RealProxyServer server;
  private final ClientConnection connection;
  private final long id;
  private final int sequence;
  private final RequestHead head;
  private final Instant startTime;
  private final long startNanos;
  private Request request;
  private ClientBody clientBody;
  private UpstreamBody upstreamBody;
  private UpstreamConnection tunnel;
  private String upstream;
  private boolean counted;
  private String cacheVerdict;
  private String countedFailure;
  private Map<Class<?>, Object> attributes;

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
    server.metrics().exchanges.increment();
    server.metrics().activeExchanges.incrementAndGet();
    int status = 0;
    long bodyBytes = 0;
    String failure = null;
    boolean keepAlive = false;
    try {
      InboundRequest.Parsed parsed;
      try {
        parsed = InboundRequest.parse(head,
            server.configuration().upstream().map(u -> u.authority()).orElse(null),
            server.configuration().maxRequestBodyBytes());
      } catch (HttpFailureException e) {
        request = null;
        failure = e.failure().name();
        countBeforeSending(e.failure().status(), failure);
        status = connection.sendError(e);
        return false;
      }
      request = withClientBody(parsed);
      server.listeners().each(l -> l.exchangeStarted(this));
      if (log.isDebugEnabled()) {
        log.debug("request_start method={} uri={} client={} conn={} ex={}", request.method(),
            request.url(), connection.clientAddress(), connection.id(), id);
      }
      Response response;
      try {
        response = RealChain.run(server.configuration().filters(), this, request, this::terminal);
      } catch (FilterException e) {
        log.error("filter_failed filter={} conn={} ex={}", e.filterName(), connection.id(), id, e);
        response = ErrorResponses.render(new HttpFailureException(ProxyFailure.FILTER_FAILED, e.publicDetail()));
        failure = ProxyFailure.FILTER_FAILED.name();
      } catch (HttpFailureException e) {
        failure = e.failure().name();
        logFailure(e);
        if (e.failure().status() == 0) {
          return false;
        }
        response = ErrorResponses.render(e);
      } catch (ContentTooLargeException e) {
        failure = ProxyFailure.BODY_TOO_LARGE.name();
        response = ErrorResponses.render(new HttpFailureException(ProxyFailure.BODY_TOO_LARGE, e.getMessage()));
      } catch (IOException e) {
        failure = ProxyFailure.UPSTREAM_BAD_RESPONSE.name();
        log.debug("exchange_failed failure={} error={} conn={} ex={}", failure, e.toString(), connection.id(), id);
        response = ErrorResponses.render(new HttpFailureException(ProxyFailure.UPSTREAM_BAD_RESPONSE,
            "I/O error in the exchange"));
      }
      boolean wantsClose = !connection.clientKeepsAlive(head) || server.isStopping()
          || server.executor().shouldShedKeepAlive()
          || (failure != null && failure(failure).closeConnection());
      status = response.status();
      countBeforeSending(status, failure);
      boolean tunnelling = tunnel != null && (status == 101
          || (request.method().equals("CONNECT") && status / 100 == 2));
      Response sent = response;
      server.listeners().each(l -> l.responseHeaders(this, sent));
      ResponseSender.Outcome outcome;
      try {
        outcome = connection.sender().send(response, request.method().equals("HEAD"),
            head.minorVersion(), wantsClose, tunnelling);
      } catch (HttpFailureException e) {
        failure = e.failure().name();
        logFailure(e);
        return false;
      }
      bodyBytes = outcome.bodyBytes();
      if (tunnelling) {
        connection.runTunnel(tunnel);
        return false;
      }
      keepAlive = !wantsClose && !outcome.closeDelimited() && finishRequestBody();
      return keepAlive;
    } finally {
      finish(status, bodyBytes, failure);
    }
  }

  private Request withClientBody(InboundRequest.Parsed parsed) {
    if (parsed.bodyLength() == 0) {
      return parsed.request();
    }
    clientBody = connection.openBody(parsed.bodyLength(), parsed.expectContinue());
    return parsed.request().withBody(clientBody);
  }

  private Response terminal(Request request) throws IOException {
    if (request.method().equals("CONNECT")) {
      return server.forwarder().connect(request, this);
    }
    HttpCache cache = server.httpCache();
    if (cache == null || Forwarder.isUpgrade(request)) {
      return server.forwarder().forward(request, this);
    }
    return cache.handle(request, forwarded -> server.forwarder().forward(forwarded, this),
        verdict -> cacheVerdict = verdict);
  }

  /** Reads what is left of the request body so the next request starts at the right byte. */
  private boolean finishRequestBody() {
    return clientBody == null || clientBody.drain(DRAIN_LIMIT);
  }

  private void finish(int status, long bodyBytes, String failure) {
    if (upstreamBody != null) {
      upstreamBody.discard();
    }
    if (tunnel != null) {
      tunnel.close();
    }
    server.metrics().activeExchanges.decrementAndGet();
    if (!counted) {
      countBeforeSending(status, failure);
    } else if (failure != null && !failure.equals(countedFailure)) {
      server.metrics().failure(failure);
    }
    Duration duration = Duration.ofNanos(System.nanoTime() - startNanos);
    String method = request != null ? request.method() : head.method();
    String url = request != null ? request.url() : head.target();
    access.info("request_complete method={} uri={} status={} bytes={} latency_ms={} client={} conn={} ex={}{}{}",
        method, url, status, bodyBytes, duration.toMillis(), connection.clientAddress(),
        connection.id(), id, cacheVerdict == null ? "" : " cache=" + cacheVerdict,
        failure == null ? "" : " failure=" + failure);
    if (server.listeners().isEmpty()) {
      return;
    }
    ExchangeSummary.Builder summary = ExchangeSummary.builder()
        .id(id).connectionId(connection.id()).clientAddress(connection.clientAddress())
        .method(method).url(url).status(status)
        .requestBodyBytes(clientBody == null ? 0 : clientBody.bytesRead())
        .responseBodyBytes(bodyBytes).startTime(startTime).duration(duration);
    if (upstream != null) {
      summary.upstream(upstream);
    }
    if (cacheVerdict != null) {
      summary.cache(cacheVerdict);
    }
    if (failure != null) {
      summary.failure(failure);
    }
    ExchangeSummary built = summary.build();
    server.listeners().each(l -> l.exchangeCompleted(built));
  }

  /**
   * Counts the status (and any failure so far) before the response goes out, so that stats read
   * by a client that has just received it already include it.
   */
  private void countBeforeSending(int status, String failure) {
    counted = true;
    countedFailure = failure;
    if (status > 0) {
      server.metrics().status(status);
    }
    if (failure != null) {
      server.metrics().failure(failure);
    }
  }

  private void logFailure(HttpFailureException e) {
    log.debug("exchange_failed failure={} status={} detail=\"{}\" conn={} ex={}", e.failure(),
        e.failure().status(), e.detail(), connection.id(), id);
  }

  private static ProxyFailure failure(String name) {
    return ProxyFailure.valueOf(name);
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
    return server.configuration().upstream().isPresent() ? Mode.REVERSE : Mode.FORWARD;
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
    upstream = upstreamConnection.key().authority();
    InetSocketAddress address = (InetSocketAddress) upstreamConnection.socket().getRemoteSocketAddress();
    server.listeners().each(l -> l.upstreamConnected(this, address, reused));
  }

  @Override
  public void interim(ResponseHead interim) throws IOException {
    if (head.minorVersion() == 1) {
      connection.sender().sendInterim(interim.status(), interim.reason(), interim.headers());
    }
  }

  @Override
  public void attach(UpstreamBody body) {
    if (upstreamBody != null) {
      upstreamBody.discard();
    }
    upstreamBody = body;
  }

  @Override
  public void tunnel(UpstreamConnection upstreamConnection) {
    tunnel = upstreamConnection;
  }

  @Override
  public String toString() {
    return "Exchange{id=" + id + ", conn=" + connection.id() + ", request=" + request + "}";
  }
}
