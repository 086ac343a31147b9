package dev.ferry.proxy.engine.upstream;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.ContentTooLargeException;
import dev.ferry.proxy.Headers;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.engine.http1.ChunkedOutputStream;
import dev.ferry.proxy.engine.http1.Framing;
import dev.ferry.proxy.engine.http1.HeadParser;
import dev.ferry.proxy.engine.http1.HeadWriter;
import dev.ferry.proxy.engine.http1.HopByHop;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.LogValues;
import dev.ferry.proxy.engine.http1.Methods;
import dev.ferry.proxy.engine.http1.ProxyFailure;
import dev.ferry.proxy.engine.http1.ResponseHead;
import dev.ferry.proxy.engine.io.ConnectionOutput;
import dev.ferry.proxy.engine.io.CopyBuffers;
import dev.ferry.proxy.engine.io.PeerAnsweredException;
import dev.ferry.proxy.engine.tls.UpstreamHandshake;
import dev.ferry.proxy.engine.io.ConnectionInput;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.nio.channels.ClosedByInterruptException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last stage of the pipeline: sends a request to its upstream on a pooled connection and
 * returns the response, whose body streams from that connection.
 *
 * <p>Retries: a request that fails on a reused connection before any response byte arrived, by a
 * reset or an end of stream (never a timeout: the upstream may be working on it), is sent once
 * more on a fresh connection, whatever its method, when its body is empty or was buffered whole
 * (up to {@code retryBufferBytes}): the upstream closed the idle connection just as it was taken
 * from the pool, so it never saw the request. RFC 9112 §9.3.1 allows exactly this.
 *
 * <p>Lengths: a request body whose stream yields more or fewer bytes than it declared fails the
 * exchange and closes the connection, so no stray byte is read by the upstream as a next request.
 */
public final class Forwarder {
  private static final Logger log = LoggerFactory.getLogger(Forwarder.class);
  /** The most interim (1xx) responses relayed before a final one: an upstream cannot stream them forever. */
  public static final int MAX_INTERIM = 32;
  /** How long {@link #awaitAnswer} waits between asking whether the client is still there. */
  private static final int CLIENT_PROBE_MILLIS = 1000;

  private final UpstreamPool pool;
  private final int upstreamTimeoutMillis;
  private final int maxHeaderBytes;
  private final int maxHeaderCount;
  private final int retryBufferBytes;

  public Forwarder(UpstreamPool pool, Duration upstreamTimeout, int maxHeaderBytes,
      int maxHeaderCount, int retryBufferBytes) {
    this.pool = pool;
    this.upstreamTimeoutMillis = timeoutMillis(upstreamTimeout);
    this.maxHeaderBytes = maxHeaderBytes;
    this.maxHeaderCount = maxHeaderCount;
    this.retryBufferBytes = retryBufferBytes;
  }

  /** Forward mode: sends {@code request} to the origin it names. */
  public Response forward(Request request, UpstreamHooks hooks) throws IOException {
    return forward(request, hooks, null);
  }

  /**
   * Sends {@code request} to {@code target} (an endpoint of a reverse proxy's pool), or to the
   * origin the request names when {@code target} is null, and returns the response head with a
   * streaming body.
   */
  public Response forward(Request request, UpstreamHooks hooks, Target to) throws IOException {
    UpstreamKey key = keyFor(request, to);
    boolean upgrade = isUpgrade(request);
    Headers headers = UpstreamFields.outbound(request, hooks, upgrade, to);
    // OPTIONS * asks about the server as a whole (RFC 9112 §3.2.4): no base path goes before it.
    String target = to == null || request.target().equals("*") || to.endpoint().basePath().isEmpty()
        ? request.target() : to.endpoint().basePath() + request.target();
    int timeoutMillis = to == null ? upstreamTimeoutMillis : to.timeoutMillis();
    DestinationCheck check = hooks.destinationCheck();
    boolean idempotent = Methods.isIdempotent(request.method());
    Body body = request.body();
    // A request that may not be sent twice, or whose body could not be sent again (larger than
    // the retry buffer, or of unknown length), is never retried: its pooled connection is probed
    // first (probe l24: a PUT of 100 KB went out on connections the upstream had closed, 502).
    boolean resendable = body.isEmpty() || (body.contentLength() >= 0 && body.contentLength() <= retryBufferBytes);
    UpstreamConnection connection = pool.acquire(key, check, !idempotent || !resendable);
    // A route's dispatcher may have wrapped the body already: never keep two copies.
    if (idempotent && connection.reused() && !body.isEmpty() && !(body instanceof ReplayableBody)
        && body.contentLength() <= retryBufferBytes) {
      body = ReplayableBody.of(body, retryBufferBytes);
    }
    Outbound outbound = new Outbound(request.method(), target, headers, body,
        request.body().contentLength(), timeoutMillis, to != null && to.watchClient());
    long receivedBefore = connection.input().bytesRead();
    ResponseHead head;
    try {
      head = exchange(connection, outbound, hooks);
    } catch (HttpFailureException | RuntimeException | Error e) {
      // A body that fails with an unchecked exception (a filter's stream, or one read before)
      // left the connection half-written: it was neither closed nor pooled (probe e24).
      connection.close();
      throw e;
    } catch (IOException e) {
      connection.close();
      if (!idempotent || !retryable(connection, e, receivedBefore, body)) {
        throw classify(e, key, connection.input().bytesRead() > receivedBefore);
      }
      log.debug("upstream_retry upstream={} error={}", key.authority(), LogValues.quoted(e.toString()));
      hooks.staleConnectionRetried();
      connection = pool.openFresh(key, check, false);
      try {
        head = exchange(connection, outbound, hooks);
      } catch (RuntimeException | Error failure) {
        connection.close();
        throw failure;
      } catch (IOException retryFailure) {
        connection.close();
        throw classify(retryFailure, key, connection.input().bytesRead() > 0);
      }
    }
    if (connection.reused()) {
      pool.answeredOnReused();
    }
    if (!body.isEmpty() && !Methods.readsContent(request.method())) {
      // Content has no meaning on a GET, HEAD, DELETE, OPTIONS or TRACE (RFC 9110 §9.3), nor
      // surely on an extension method, and an upstream that never reads it takes it for the start
      // of the next request on this connection: one client's chosen "request" answered for the
      // next client (probe p24 with GET, v27 with DELETE, OPTIONS, TRACE and PROPFIND). The
      // connection ends with this exchange.
      connection.forgoReuse();
    }
    return toResponse(request, head, connection, upgrade, hooks, to);
  }

  /**
   * Reads the upstream's first head under {@code watch}: a client found gone meanwhile fails the
   * exchange as {@code CLIENT_CLOSED}, whether the read failed for it (the watch ended the
   * upstream's input) or came back first, and nothing is tried again.
   */
  private static ResponseHead readWatched(HeadParser parser, ClientWatch watch) throws IOException {
    ResponseHead head;
    try {
      head = parser.readResponse();
    } catch (Throwable e) {
      // Disarmed whatever failed: an armed watch would take the client's socket later.
      if (watch.disarm()) {
        throw clientLeftWhileWaiting();
      }
      throw e;
    }
    if (watch.disarm()) {
      throw clientLeftWhileWaiting();
    }
    return head;
  }

  private static HttpFailureException clientLeftWhileWaiting() {
    return new HttpFailureException(ProxyFailure.CLIENT_CLOSED,
        "client closed the connection while the upstream had not answered");
  }

  /**
   * Waits for the upstream's first answer byte a second at a time, asking between waits whether
   * the client is still there: a client that left gets its exchange abandoned (the upstream
   * connection closed, {@code CLIENT_CLOSED}), as nginx does (499), instead of holding a thread
   * and an upstream connection until the upstream timeout. A few hundred clients that reset
   * after asking a slow upstream held a bounded pool's every thread for a minute. Returns when
   * bytes or the end came, or when less than a wait is left before {@code deadlineNanos} (the
   * head's read then times out as before). For an exchange without a {@link ClientWatch}, where
   * it may be abandoned: always when the upstream's reads are timed anyway (TLS), where a wait a
   * second at a time costs nothing more; otherwise when the hooks ask it, or when the pool is
   * crowded (see {@link Target#watchClient()}).
   */
  private static void awaitAnswer(ConnectionInput upstream, long deadlineNanos, UpstreamHooks hooks,
      boolean crowdedPool) throws IOException {
    boolean timedAnyway = !upstream.readsChannel();
    if (!hooks.watchesClient() && !((crowdedPool || timedAnyway) && hooks.abandonable())) {
      return;
    }
    while (deadlineNanos - System.nanoTime() > CLIENT_PROBE_MILLIS * 1_000_000L) {
      try {
        upstream.awaitData(CLIENT_PROBE_MILLIS, false);
        return;
      } catch (SocketTimeoutException quiet) {
        if (hooks.clientGone()) {
          throw clientLeftWhileWaiting();
        }
      }
    }
  }

  /**
   * A stop whose grace ran out interrupts the exchanges still running (the only interrupt they
   * get): what failed then is the stop, not the upstream, and nothing is tried again.
   */
  static boolean stopping(IOException e) {
    return e instanceof ClosedByInterruptException || Thread.currentThread().isInterrupted();
  }

  /**
   * Whether an idempotent request that failed on a reused connection goes once more on a fresh
   * one: it failed before any response byte arrived, not by a timeout, and its body can be sent
   * again. A request of another method is never sent twice (RFC 9110 §9.2.2): an upstream that
   * read it and then closed may have acted on it.
   */
  private static boolean retryable(UpstreamConnection connection, IOException e, long receivedBefore,
      Body body) {
    return !stopping(e) && connection.reused()
        && !(e instanceof SocketTimeoutException) && !(e instanceof ContentTooLargeException)
        && connection.input().bytesRead() == receivedBefore
        && (body.isEmpty() || (body instanceof ReplayableBody && ((ReplayableBody) body).replayable()));
  }

  /**
   * Opens a tunnel for CONNECT: connects to the target and hands the connection to the
   * exchange. The returned 200 is written before bytes start to flow.
   */
  public Response connect(Request request, UpstreamHooks hooks) throws IOException {
    UpstreamKey key = new UpstreamKey(HostNames.normalise(request.host()), request.port(), false);
    UpstreamConnection connection = pool.openFresh(key, hooks.destinationCheck(), true);
    hooks.upstreamConnected(connection, false);
    hooks.tunnel(connection);
    log.debug("server_connect host={} port={} tunnel=true", key.host(), key.port());
    return Response.builder().status(200).reason("Connection Established").build();
  }

  /** What goes upstream: the same for a first attempt and a retry. */
  private record Outbound(String method, String target, Headers headers, Body body,
      long declaredLength, int timeoutMillis, boolean watchClient) {}

  private ResponseHead exchange(UpstreamConnection connection, Outbound outbound,
      UpstreamHooks hooks) throws IOException {
    hooks.upstreamConnected(connection, connection.reused());
    if (log.isDebugEnabled()) {
      log.debug("server_connect host={} port={} reused={}", connection.key().host(),
          connection.key().port(), connection.reused());
    }
    connection.input().readTimeout(outbound.timeoutMillis());
    ConnectionOutput out = connection.output();
    HeadWriter.writeRequestHead(out, outbound.method(), outbound.target(), outbound.headers());
    boolean body = !outbound.body().isEmpty();
    out.yieldToAnswer(body);
    try {
      sendBody(outbound, connection);
      out.flush();
    } catch (PeerAnsweredException e) {
      // RFC 9112 §9.5: the upstream answered before taking the whole body (a 413, a 401) and
      // stopped reading; its answer is what the client gets, and the connection ends after it.
      log.debug("upstream_answered_early host={} port={}", connection.key().host(), connection.key().port());
    } finally {
      if (body) {
        out.yieldToAnswer(false);
      }
    }
    // The whole final head, not each read of it, must come within the upstream timeout from the
    // request on: an upstream trickling its head a byte at a time is not an answer.
    long deadlineNanos = outbound.timeoutMillis() > 0
        ? System.nanoTime() + outbound.timeoutMillis() * 1_000_000L : Long.MAX_VALUE;
    ClientWatch watch = hooks.clientWatch();
    if (watch == null || !watch.arm(connection.input())) {
      watch = null;
      awaitAnswer(connection.input(), deadlineNanos, hooks, outbound.watchClient());
    }
    if (outbound.timeoutMillis() > 0) {
      connection.input().deadline(deadlineNanos);
    }
    HeadParser parser = new HeadParser(connection.input(), HeadParser.MAX_STATUS_LINE_BYTES, maxHeaderBytes, maxHeaderCount);
    ResponseHead head = watch == null ? parser.readResponse() : readWatched(parser, watch);
    // RFC 9110 §15.2: a proxy forwards 1xx responses unless it asked for them itself; Ferry never
    // sends Expect upstream, so every interim response, 100 Continue included, goes on. They do
    // not stretch the wait for the final response, and there are at most MAX_INTERIM of them.
    int interim = 0;
    while (head.status() < 200 && head.status() != 101) {
      if (++interim > MAX_INTERIM) {
        throw new HttpFailureException(ProxyFailure.UPSTREAM_BAD_RESPONSE,
            "more than " + MAX_INTERIM + " interim (1xx) responses");
      }
      hooks.interim(head);
      head = parser.readResponse();
    }
    // The body's reads are bounded one by one, as before the head.
    connection.input().readTimeout(outbound.timeoutMillis());
    return head;
  }

  private void sendBody(Outbound outbound, UpstreamConnection connection) throws IOException {
    Body body = outbound.body();
    if (body.isEmpty()) {
      return;
    }
    ConnectionOutput out = connection.output();
    long declared = outbound.declaredLength();
    boolean chunked = outbound.headers().contains("Transfer-Encoding");
    ChunkedOutputStream chunks = chunked ? new ChunkedOutputStream(out) : null;
    byte[] buffer = CopyBuffers.take();
    long total = 0;
    try (InputStream in = body.stream()) {
      boolean allHere = declared >= 0 && in.available() >= declared;
      if (!allHere) {
        // The upstream gets the head now, not with the body's first bytes: it may answer on the
        // head alone (RFC 9110 §10.1.1), and the client may be slow to send them.
        out.flush();
        if (!out.watchesForAnswer()) {
          // TLS: an answer while the body waits cannot be told from a session ticket.
          connection.forgoReuse();
        }
      }
      int n;
      while ((n = readBody(in, buffer, connection, chunked)) > 0) {
        total += n;
        if (declared >= 0 && total > declared) {
          throw lengthMismatch(declared, "more");
        }
        if (chunked) {
          chunks.write(buffer, 0, n);
        } else {
          out.write(buffer, 0, n);
        }
        if (in.available() == 0) {
          // Nothing more is ready: let the upstream see what arrived (a body streaming slowly).
          out.flush();
        }
      }
    } finally {
      CopyBuffers.give(buffer);
    }
    if (declared >= 0 && total != declared) {
      throw lengthMismatch(declared, Long.toString(total));
    }
    if (chunked) {
      chunks.finish(HopByHop.stripTrailers(body.trailers()));
    }
  }

  /**
   * Reads the body on, and then, before what was read goes anywhere, asks whether the upstream
   * answered meanwhile (a read may wait for the client, or block inside after returning what was
   * buffered): if it did, nothing more goes to it (see {@link EarlyAnswer}) and the connection
   * ends after its answer. The end of a body framed by length is no such moment: all of it went,
   * and what the upstream sends now is its answer; a chunked body's last chunk is still to go. A
   * client that stalls or fails mid-body after the upstream answered gets that answer, not the
   * proxy's 408. Where the upstream cannot be asked (TLS), a connection whose body was not all
   * here at the start is not reused.
   */
  private static int readBody(InputStream in, byte[] buffer, UpstreamConnection connection,
      boolean chunked) throws IOException {
    int n;
    try {
      n = in.read(buffer);
    } catch (IOException e) {
      stopIfAnswered(connection);
      throw bodyFailed(e);
    }
    if (n > 0 || chunked) {
      stopIfAnswered(connection);
    }
    return n;
  }

  /**
   * A request body's own failure, told apart from the upstream's: the client's body fails with
   * the engine's own exceptions (the client left, too slow, too large), so any other comes from
   * a body a filter supplied, and is the filter's failure (500), not a reset by an upstream that
   * would then be retried and counted against a healthy endpoint (probe e26).
   */
  private static IOException bodyFailed(IOException e) {
    if (e instanceof HttpFailureException || e instanceof ContentTooLargeException || stopping(e)) {
      return e;
    }
    return new HttpFailureException(ProxyFailure.FILTER_FAILED, "the request body failed", e);
  }

  private static void stopIfAnswered(UpstreamConnection connection) throws PeerAnsweredException {
    if (EarlyAnswer.arrived(connection)) {
      throw connection.output().giveWay("the upstream answered before the whole body was sent");
    }
  }

  /** OkHttp's "expected N bytes but received M": the body broke its own contract. */
  private static HttpFailureException lengthMismatch(long declared, String received) {
    return new HttpFailureException(ProxyFailure.FILTER_FAILED,
        "request body declared " + declared + " bytes but yielded " + received);
  }

  private Response toResponse(Request request, ResponseHead head, UpstreamConnection connection,
      boolean upgrade, UpstreamHooks hooks, Target to) throws IOException {
    if (head.status() == 101) {
      if (!upgrade) {
        connection.close();
        throw new HttpFailureException(ProxyFailure.UPSTREAM_BAD_RESPONSE,
            "101 Switching Protocols without an Upgrade request");
      }
      if (!UpgradeProtocols.offered(request.headers().all("Upgrade"), head.headers().all("Upgrade"))) {
        // RFC 9110 §7.8, §15.2.2: a server names what it switches to, and only what was offered;
        // a tunnel to anything else would carry bytes the client cannot read as what it asked.
        connection.close();
        throw new HttpFailureException(ProxyFailure.UPSTREAM_BAD_RESPONSE,
            "101 Switching Protocols to a protocol the client did not offer");
      }
      hooks.tunnel(connection);
      return Response.builder().status(101).reason(head.reason())
          .headers(UpstreamFields.relayed(head, true, null))
          .build();
    }
    long length;
    try {
      length = bodyLength(request.method(), head);
    } catch (HttpFailureException e) {
      connection.close();
      throw e;
    }
    if (request.method().equals("HEAD") && announcesContent(head.status(), head.headers())) {
      // A server that answers HEAD as GET (Python's do_HEAD = do_GET) writes the body after the
      // head, often in a second write that Nagle's algorithm holds until the proxy's delayed
      // ACK, up to 40 ms later: past the unasked-bytes check of the next reuse, the next client
      // got a 502 for a "malformed status line" (probe c25). HEADs are few; this costs little.
      connection.forgoReuse();
    }
    boolean keepAlive = connection.reusable() && keepsAlive(head);
    keepAliveTimeout(head.headers()).ifPresent(connection::keepAliveTimeout);
    UpstreamBody body = new UpstreamBody(connection, pool, length, keepAlive, head.status(),
        maxHeaderBytes, maxHeaderCount);
    hooks.attach(body);
    Headers headers = UpstreamFields.relayed(head, false, to);
    Response.Builder response = Response.builder().status(head.status()).headers(headers).body(body);
    if (!head.reason().isEmpty()) {
      response.reason(head.reason());
    }
    return response.build();
  }

  /**
   * The length of the body that follows {@code head}, {@link Framing#CHUNKED} or
   * {@link Framing#UNTIL_CLOSE}, for a request of {@code method}.
   *
   * @throws HttpFailureException (502) for faulty framing
   */
  public static long bodyLength(String method, ResponseHead head) throws HttpFailureException {
    if (head.minorVersion() == 0 && head.headers().contains("Transfer-Encoding")) {
      // RFC 9112 §6.1: an HTTP/1.0 message's Transfer-Encoding means faulty framing.
      throw new HttpFailureException(ProxyFailure.UPSTREAM_BAD_RESPONSE,
          "HTTP/1.0 response with Transfer-Encoding");
    }
    return Framing.responseBodyLength(method, head.status(), head.headers());
  }

  /**
   * A response timeout as a socket's read timeout: at least 1 ms, since 0 waits forever (probe
   * e25: a timeout under a millisecond turned the timeout off).
   */
  public static int timeoutMillis(Duration timeout) {
    return (int) Math.min(Integer.MAX_VALUE, Math.max(1, timeout.toMillis()));
  }

  /**
   * True if a HEAD's answer announces content a GET's would carry: a coding, any length but 0
   * on any line or list member (probe v28: {@code Content-Length: 0} then {@code 44}), or no
   * framing at all, which for a GET is a body delimited by the close (probe v29: the late body
   * of a server answering HEAD as GET reached the next client as a 502).
   */
  public static boolean announcesContent(int status, Headers headers) {
    if (status == 204 || status == 304) {
      return false;
    }
    if (headers.contains("Transfer-Encoding") || !headers.contains("Content-Length")) {
      return true;
    }
    for (String line : headers.all("Content-Length")) {
      for (String member : line.split(",", -1)) {
        if (!member.trim().equals("0")) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * Runs the destination check on the origin {@code request} names, with the addresses it
   * resolves to, without connecting: for a response served from the cache when the access verdict
   * waits on those addresses ({@link UndecidedDestination}).
   *
   * @throws HttpFailureException the check's refusal, or 502 if the host does not resolve
   */
  public void vet(Request request, UpstreamHooks hooks) throws HttpFailureException {
    Connector.vet(keyFor(request, null), hooks.destinationCheck());
  }

  private static UpstreamKey keyFor(Request request, Target to) throws HttpFailureException {
    if (to != null) {
      return to.key();
    }
    return new UpstreamKey(HostNames.normalise(request.host()), request.port(),
        request.scheme().equals("https"));
  }

  /** Whether the upstream keeps the connection open after {@code head}'s answer (RFC 9112 §9.3). */
  public static boolean keepsAlive(ResponseHead head) {
    return head.minorVersion() == 1 ? !head.headers().containsToken("Connection", "close")
        : head.headers().containsToken("Connection", "keep-alive");
  }

  /** The {@code timeout} parameter of {@code Keep-Alive} (RFC 2068 §19.7.1.1), in seconds. */
  public static Optional<Long> keepAliveTimeout(Headers headers) {
    for (String value : headers.all("Keep-Alive")) {
      for (String parameter : value.split(",")) {
        String[] pair = parameter.trim().split("=", 2);
        if (pair.length == 2 && pair[0].trim().equalsIgnoreCase("timeout")) {
          try {
            long seconds = Long.parseLong(pair[1].trim());
            if (seconds >= 0) {
              return Optional.of(seconds);
            }
          } catch (NumberFormatException ignored) {
            // A malformed parameter is ignored, as if absent.
          }
        }
      }
    }
    return Optional.empty();
  }

  /** WebSocket and similar upgrades pass through; an offer of h2c is dropped to keep the exchange HTTP/1.1. */
  public static boolean isUpgrade(Request request) {
    List<String> protocols = request.headers().all("Upgrade");
    // RFC 9110 §7.8: Upgrade in an HTTP/1.0 request is ignored (no 101 can go to such a client).
    // An offer of h2c anywhere in it (websocket, h2c) drops it all: once switched, the client
    // would speak HTTP/2 to the upstream past every route, rule and filter.
    return !protocols.isEmpty() && !request.version().equals("HTTP/1.0")
        && request.headers().containsToken("Connection", "upgrade")
        && !UpgradeProtocols.offersName(protocols, "h2c");
  }

  /**
   * @param answered whether response bytes had arrived: a connection that ends then broke its
   *     response off, which is not a reset before any answer, so it is not retried elsewhere
   */
  private static HttpFailureException classify(IOException e, UpstreamKey key, boolean answered) {
    if (e instanceof HttpFailureException) {
      return (HttpFailureException) e;
    }
    if (stopping(e)) {
      return new HttpFailureException(ProxyFailure.PROXY_STOPPED, "the proxy stopped before "
          + key.host() + " answered", e);
    }
    if (e instanceof ContentTooLargeException) {
      // A body limit (the proxy's or a filter's) tripped while the body streamed upstream: the
      // client's fault.
      return HttpFailureException.bodyTooLarge((ContentTooLargeException) e);
    }
    if (e instanceof SocketTimeoutException) {
      return new HttpFailureException(ProxyFailure.UPSTREAM_TIMEOUT,
          "no response from " + key.host(), e);
    }
    if (!answered && key.tls() && UpstreamHandshake.refusedClientCertificate(e)) {
      // The TLS 1.3 server's refusal of the client's certificate, at the first read: the
      // handshake's failure, not a connection reset before an answer.
      return new HttpFailureException(ProxyFailure.UPSTREAM_UNREACHABLE,
          "TLS handshake with " + key.host() + " failed: " + UpstreamHandshake.failure(e), e);
    }
    if (answered) {
      return new HttpFailureException(ProxyFailure.UPSTREAM_BAD_RESPONSE,
          key.host() + " closed the connection in the middle of its response head", e);
    }
    return new HttpFailureException(ProxyFailure.UPSTREAM_RESET,
        key.host() + " closed the connection without a complete response", e);
  }
}
