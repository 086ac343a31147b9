package dev.ferry.proxy.engine.upstream;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.ContentTooLargeException;
import dev.ferry.proxy.Headers;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.Upstream;
import dev.ferry.proxy.engine.http1.ChunkedOutputStream;
import dev.ferry.proxy.engine.http1.Framing;
import dev.ferry.proxy.engine.http1.HeadParser;
import dev.ferry.proxy.engine.http1.HeadWriter;
import dev.ferry.proxy.engine.http1.HopByHop;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.ProxyFailure;
import dev.ferry.proxy.engine.http1.ResponseHead;
import dev.ferry.proxy.engine.io.ConnectionOutput;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last stage of the pipeline: sends a request to its upstream on a pooled connection and
 * returns the response, whose body streams from that connection.
 *
 * <p>A request that fails on a reused connection before any response byte arrived is retried
 * once on a fresh connection, but only if it is idempotent and has no body to resend (RFC 9110
 * §9.2.2): the upstream may have closed the idle connection just as it was taken from the pool.
 */
public final class Forwarder {
  private static final Logger log = LoggerFactory.getLogger(Forwarder.class);
  private static final Set<String> IDEMPOTENT =
      Set.of("GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE");
  private static final Set<String> BODILESS_METHODS =
      Set.of("GET", "HEAD", "DELETE", "OPTIONS", "TRACE", "CONNECT");
  private static final int COPY_BUFFER = 16 * 1024;

  private final UpstreamPool pool;
  private final Upstream upstream;
  private final int upstreamTimeoutMillis;
  private final int maxHeaderBytes;
  private final int maxHeaderCount;

  public Forwarder(UpstreamPool pool, Optional<Upstream> upstream, Duration upstreamTimeout,
      int maxHeaderBytes, int maxHeaderCount) {
    this.pool = pool;
    this.upstream = upstream.orElse(null);
    this.upstreamTimeoutMillis = (int) Math.min(Integer.MAX_VALUE, upstreamTimeout.toMillis());
    this.maxHeaderBytes = maxHeaderBytes;
    this.maxHeaderCount = maxHeaderCount;
  }

  /** Sends {@code request} upstream and returns the response head with a streaming body. */
  public Response forward(Request request, UpstreamHooks hooks) throws IOException {
    UpstreamKey key = keyFor(request);
    boolean upgrade = isUpgrade(request);
    Headers headers = outboundHeaders(request, hooks, upgrade);
    String target = upstream == null ? request.target() : upstream.basePath() + request.target();
    boolean retryable = IDEMPOTENT.contains(request.method()) && request.body().isEmpty();
    UpstreamConnection connection = pool.acquire(key);
    ResponseHead head;
    try {
      head = exchange(connection, request, target, headers, hooks);
    } catch (HttpFailureException e) {
      connection.close();
      throw e;
    } catch (IOException e) {
      connection.close();
      if (!(connection.reused() && retryable)) {
        throw classify(e, key);
      }
      log.debug("upstream_retry upstream={} error={}", key.authority(), e.toString());
      connection = pool.openFresh(key);
      try {
        head = exchange(connection, request, target, headers, hooks);
      } catch (IOException retryFailure) {
        connection.close();
        throw classify(retryFailure, key);
      }
    }
    return toResponse(request, head, connection, upgrade, hooks);
  }

  /**
   * Opens a tunnel for CONNECT: connects to the target and hands the connection to the
   * exchange. The returned 200 is written before bytes start to flow.
   */
  public Response connect(Request request, UpstreamHooks hooks) throws IOException {
    UpstreamKey key = new UpstreamKey(request.host(), request.port(), false);
    UpstreamConnection connection = pool.openFresh(key);
    hooks.upstreamConnected(connection, false);
    hooks.tunnel(connection);
    log.debug("server_connect host={} port={} tunnel=true", key.host(), key.port());
    return Response.builder().status(200).reason("Connection Established").build();
  }

  private ResponseHead exchange(UpstreamConnection connection, Request request, String target,
      Headers headers, UpstreamHooks hooks) throws IOException {
    hooks.upstreamConnected(connection, connection.reused());
    if (log.isDebugEnabled()) {
      log.debug("server_connect host={} port={} reused={}", connection.key().host(),
          connection.key().port(), connection.reused());
    }
    connection.input().readTimeout(upstreamTimeoutMillis);
    ConnectionOutput out = connection.output();
    HeadWriter.writeRequestHead(out, request.method(), target, headers);
    sendBody(request.body(), out, headers);
    out.flush();
    HeadParser parser = new HeadParser(connection.input(), 8 * 1024, maxHeaderBytes, maxHeaderCount);
    ResponseHead head = parser.readResponse();
    // RFC 9110 §15.2: pass 1xx on; 100 Continue is ours to answer, since Expect is not forwarded.
    while (head.status() < 200 && head.status() != 101) {
      if (head.status() != 100) {
        hooks.interim(head);
      }
      head = parser.readResponse();
    }
    return head;
  }

  private void sendBody(Body body, ConnectionOutput out, Headers headers) throws IOException {
    if (body.isEmpty()) {
      return;
    }
    boolean chunked = headers.contains("Transfer-Encoding");
    ChunkedOutputStream chunks = chunked ? new ChunkedOutputStream(out) : null;
    byte[] buffer = new byte[COPY_BUFFER];
    try (InputStream in = body.stream()) {
      int n;
      while ((n = in.read(buffer)) > 0) {
        if (chunked) {
          chunks.write(buffer, 0, n);
        } else {
          out.write(buffer, 0, n);
        }
      }
    }
    if (chunked) {
      chunks.finish(HopByHop.stripTrailers(body.trailers()));
    }
  }

  private Response toResponse(Request request, ResponseHead head, UpstreamConnection connection,
      boolean upgrade, UpstreamHooks hooks) throws IOException {
    if (head.status() == 101) {
      if (!upgrade) {
        connection.close();
        throw new HttpFailureException(ProxyFailure.UPSTREAM_BAD_RESPONSE,
            "101 Switching Protocols without an Upgrade request");
      }
      hooks.tunnel(connection);
      return Response.builder().status(101).reason(head.reason())
          .headers(HopByHop.addVia(HopByHop.forForwarding(head.headers(), true), head.minorVersion()))
          .build();
    }
    long length;
    try {
      length = Framing.responseBodyLength(request.method(), head.status(), head.headers());
    } catch (HttpFailureException e) {
      connection.close();
      throw e;
    }
    boolean keepAlive = head.minorVersion() == 1
        ? !head.headers().containsToken("Connection", "close")
        : head.headers().containsToken("Connection", "keep-alive");
    UpstreamBody body = new UpstreamBody(connection, pool, length, keepAlive, head.status(),
        maxHeaderBytes, maxHeaderCount);
    hooks.attach(body);
    Headers headers = HopByHop.addVia(HopByHop.forForwarding(head.headers(), false), head.minorVersion());
    Response.Builder response = Response.builder().status(head.status()).headers(headers).body(body);
    if (!head.reason().isEmpty()) {
      response.reason(head.reason());
    }
    return response.build();
  }

  private Headers outboundHeaders(Request request, UpstreamHooks hooks, boolean upgrade) {
    Headers stripped = HopByHop.forForwarding(request.headers(), upgrade)
        .without("Content-Length").without("Expect").without("Host");
    Headers.Builder headers = Headers.builder();
    String originalHost = request.authority();
    headers.add("Host", upstream == null || upstream.preservesHost() ? originalHost : upstream.authority());
    for (int i = 0; i < stripped.size(); i++) {
      headers.add(stripped.name(i), stripped.value(i));
    }
    if (upstream != null) {
      String client = hooks.clientAddress().getAddress().getHostAddress();
      String forwardedFor = request.headers().all("X-Forwarded-For").isEmpty()
          ? client : String.join(", ", request.headers().all("X-Forwarded-For")) + ", " + client;
      headers.set("X-Forwarded-For", forwardedFor);
      headers.set("X-Forwarded-Proto", "http");
      headers.set("X-Forwarded-Host", originalHost);
    }
    long length = request.body().contentLength();
    if (length > 0 || (length == 0 && !BODILESS_METHODS.contains(request.method()))) {
      headers.add("Content-Length", Long.toString(length));
    } else if (length < 0) {
      headers.add("Transfer-Encoding", "chunked");
    }
    return HopByHop.addVia(headers.build(), request.version().equals("HTTP/1.0") ? 0 : 1);
  }

  private UpstreamKey keyFor(Request request) {
    if (upstream != null) {
      return new UpstreamKey(upstream.host(), upstream.port(), upstream.scheme().equals("https"));
    }
    return new UpstreamKey(request.host(), request.port(), request.scheme().equals("https"));
  }

  /** WebSocket and similar upgrades pass through; h2c is dropped to keep the exchange HTTP/1.1. */
  public static boolean isUpgrade(Request request) {
    Optional<String> protocol = request.headers().first("Upgrade");
    return protocol.isPresent()
        && request.headers().containsToken("Connection", "upgrade")
        && !protocol.get().trim().toLowerCase(Locale.ROOT).startsWith("h2c");
  }

  private static HttpFailureException classify(IOException e, UpstreamKey key) {
    if (e instanceof HttpFailureException) {
      return (HttpFailureException) e;
    }
    if (e instanceof ContentTooLargeException) {
      // A filter's body limit tripped while the body streamed upstream: the client's fault.
      return new HttpFailureException(ProxyFailure.BODY_TOO_LARGE, e.getMessage(), e);
    }
    if (e instanceof SocketTimeoutException) {
      return new HttpFailureException(ProxyFailure.UPSTREAM_TIMEOUT,
          "no response from " + key.host(), e);
    }
    return new HttpFailureException(ProxyFailure.UPSTREAM_BAD_RESPONSE,
        key.host() + " closed the connection without a complete response", e);
  }
}
