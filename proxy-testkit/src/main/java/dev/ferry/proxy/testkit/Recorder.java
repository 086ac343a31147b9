package dev.ferry.proxy.testkit;

import dev.ferry.proxy.Exchange;
import dev.ferry.proxy.ExchangeListener;
import dev.ferry.proxy.ExchangeSummary;
import dev.ferry.proxy.Filter;
import dev.ferry.proxy.Headers;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.Response;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Records every exchange through the public API only: as the first filter it tees the request
 * and response bodies (exact bytes forwarded, at most {@code maxBodyBytes} kept per body) and
 * notes filter-level times; as a listener it notes connection and head events and, when the
 * exchange completes, assembles the {@link RecordedExchange}. The two meet by exchange id. A
 * request body the chain did not read to its end (never forwarded) is read into the recording,
 * up to the cap, once the chain returns.
 *
 * <p>Answers the engine makes itself (a 502 for a failed connect, a 504, a limit's 4xx) never
 * pass the filter; their in-memory bodies are copied when the listener sees their head. Every
 * capture reserves its bytes from the recording's budget before allocating them, and each one
 * is either handed to the recorded exchange or discarded when the exchange completes.
 */
final class Recorder implements Filter, ExchangeListener {
  private final Recording recording;
  private final int maxBodyBytes;
  private final ConcurrentHashMap<Long, InFlight> inFlight = new ConcurrentHashMap<>();
  private final AtomicLong orders = new AtomicLong();
  /** The proxy's own {@code host:port}: where a request refused before it was parsed was sent. */
  private final Supplier<String> proxyAuthority;

  Recorder(Recording recording, int maxBodyBytes, Supplier<String> proxyAuthority) {
    this.recording = recording;
    this.maxBodyBytes = maxBodyBytes;
    this.proxyAuthority = proxyAuthority;
    recording.attach(orders::get, inFlight::size);
  }

  /** The state of an exchange in progress, for the replay and fault filters to annotate. */
  InFlight inFlight(long exchangeId) {
    return inFlight.computeIfAbsent(exchangeId, id -> new InFlight(orders.incrementAndGet()));
  }

  @Override
  public void exchangeStarted(Exchange exchange) {
    InFlight state = inFlight(exchange.id());
    state.request = exchange.request();
    state.sequence = exchange.sequence();
  }

  @Override
  public void upstreamConnected(Exchange exchange, InetSocketAddress upstream, boolean reused) {
    InFlight state = inFlight(exchange.id());
    state.connectedNanos = System.nanoTime();
    state.reused = reused;
  }

  @Override
  public void responseHeaders(Exchange exchange, Response response) {
    InFlight state = inFlight(exchange.id());
    state.sentResponse = response;
    state.sentHeaders = SentHeaders.of(response, exchange.request().method(), Instant.now());
    if (!relayed(state)) {
      InMemoryBodies.read(response.body(), maxBodyBytes).ifPresent(bytes -> {
        BodyCapture capture = new BodyCapture(maxBodyBytes, recording);
        capture.write(bytes, 0, bytes.length);
        state.proxyMadeBody = capture;
      });
    }
  }

  @Override
  public Response handle(Exchange exchange, Chain chain) throws IOException {
    InFlight state = inFlight(exchange.id());
    Request request = exchange.request();
    state.request = request;
    state.sequence = exchange.sequence();
    TeeBody tee = null;
    if (!request.body().isEmpty()) {
      BodyCapture capture = new BodyCapture(maxBodyBytes, recording);
      state.requestBody = capture;
      tee = new TeeBody(request.body(), capture);
      state.requestTee = tee;
      request = request.withBody(tee);
    }
    state.proceedNanos = System.nanoTime();
    Response response;
    try {
      response = chain.proceed(request);
    } finally {
      state.headersNanos = System.nanoTime();
      if (tee != null) {
        keepUnforwarded(exchange.request(), tee);
      }
    }
    BodyCapture capture = new BodyCapture(maxBodyBytes, recording);
    state.responseBody = capture;
    Response teed = response.withBody(new TeeBody(response.body(), capture));
    state.filterResponse = teed;
    return teed;
  }

  /**
   * Records the request body the chain left unread, up to the recording's cap (see
   * {@link TeeBody#keepUnread}). A client waiting for {@code 100 Continue} is not asked for its
   * body here: the engine sends the 100 when the body is first read, and a request answered
   * before that must get no 100 (its client then never sent the body).
   */
  private static void keepUnforwarded(Request request, TeeBody tee) {
    boolean awaitsContinue = request.headers().all("Expect").stream()
        .anyMatch(value -> value.trim().equalsIgnoreCase("100-continue"));
    if (!awaitsContinue || tee.isOpened()) {
      tee.keepUnread();
    }
  }

  @Override
  public void exchangeCompleted(ExchangeSummary summary) {
    // Still in flight until recorded: a check that waits for a quiet proxy must never find the
    // exchange neither in flight nor in the recording.
    InFlight state = inFlight.get(summary.id());
    if (state == null) {
      state = new InFlight(orders.incrementAndGet());
    }
    long completedNanos = System.nanoTime();
    RecordedExchange.Builder b = RecordedExchange.builder();
    b.id = summary.id();
    b.connectionId = summary.connectionId();
    b.sequence = state.sequence;
    b.startTime = summary.startTime();
    b.duration = summary.duration();
    b.clientAddress = summary.clientAddress();
    b.request = request(summary, state);
    b.response = response(summary, state);
    b.timings = timings(state, completedNanos, !state.dropped && summary.status() > 0);
    b.upstream = summary.upstream().orElse(null);
    b.requestId = summary.requestId().orElse(null);
    b.traceId = summary.traceId().orElse(null);
    b.cache = summary.cache().orElse(null);
    b.failure = summary.failure().orElse(null);
    b.fault = state.fault;
    b.faultChangedResponse = state.faultChangedResponse;
    b.replayed = state.replayed;
    b.unmatched = state.unmatched;
    b.proxyMade = !state.dropped && summary.status() > 0 && !relayed(state);
    b.order = state.order;
    discardUnused(state);
    recording.add(b.build());
    inFlight.remove(summary.id());
    recording.signal();
  }

  /** Hands back the budget of captures that did not make it into the recorded exchange. */
  private static void discardUnused(InFlight state) {
    if (state.responseBody != null && (state.dropped || !relayed(state))) {
      state.responseBody.discard();
    }
    if (state.proxyMadeBody != null && relayed(state)) {
      state.proxyMadeBody.discard();
    }
  }

  /**
   * True if the response sent is the one the recorder's filter returned. Compared by body: the
   * engine may add header fields (a request id) to the response on its way out, but its body is
   * the one the filter chain returned, while an answer the engine made has a body of its own.
   */
  private static boolean relayed(InFlight state) {
    Response sent = state.sentResponse;
    Response relayed = state.filterResponse;
    return sent != null && relayed != null && sent.body() == relayed.body();
  }

  private RecordedRequest request(ExchangeSummary summary, InFlight state) {
    Request request = state.request;
    if (request == null) {
      return RecordedRequest.of(unparsed(summary), RecordedBody.empty());
    }
    return RecordedRequest.of(request, body(state.requestBody, summary.requestBodyBytes(),
        request.headers())).withTrailers(trailers(state.requestTee));
  }

  /**
   * A request the engine refused before it became one: what the summary kept of its line. An
   * origin-form target (sent to a forward proxy's address as if it were the origin) and one
   * that cannot be read are recorded at the proxy's address, where the client sent them; the
   * summary does not keep the Host field.
   */
  private Request unparsed(ExchangeSummary summary) {
    Request.Builder fallback = Request.builder().authority(proxyAuthority.get());
    String target = summary.url();
    try {
      fallback.method(summary.method());
      if (target.startsWith("/")) {
        fallback.target(target);
      } else {
        fallback.url(target);
      }
    } catch (IllegalArgumentException e) {
      fallback.header("X-Ferry-Unparsed-Target", target.replaceAll("[^\\x20-\\x7e]", "?"));
    }
    return fallback.build();
  }

  /** Trailers are known once the body was read to its end; a body that failed has none. */
  private static Headers trailers(dev.ferry.proxy.Body body) {
    if (body == null) {
      return Headers.empty();
    }
    try {
      return body.trailers();
    } catch (RuntimeException e) {
      return Headers.empty();
    }
  }

  private static RecordedResponse response(ExchangeSummary summary, InFlight state) {
    Response sent = state.sentResponse;
    if (state.dropped) {
      return RecordedResponse.none();
    }
    if (sent == null) {
      // Rejected before a request existed (400, 414, 431, 408): only the status is known.
      return summary.status() > 0
          ? RecordedResponse.of(summary.status(), "", Headers.empty(),
              body(null, summary.responseBodyBytes(), Headers.empty()))
          : RecordedResponse.none();
    }
    // A response the engine made itself (a 502, a filter's 500) never passed the recorder's
    // filter: its body is the copy taken when its head was sent, or, if it could not be copied,
    // none, flagged as truncated by its known size.
    boolean relayed = relayed(state);
    BodyCapture capture = relayed ? state.responseBody : state.proxyMadeBody;
    RecordedResponse response = RecordedResponse.of(sent.status(), sent.reason(), state.sentHeaders,
        body(capture, summary.responseBodyBytes(), sent.headers()));
    return relayed ? response.withTrailers(trailers(sent.body())) : response;
  }

  /**
   * A body of which the proxy reports more bytes than went through the capture was cut either by
   * a recording bound or, where none was reached, by bytes that passed the recorder unseen.
   */
  private static RecordedBody body(BodyCapture capture, long reportedSize, Headers headers) {
    if (capture == null) {
      return RecordedBody.owned(new byte[0], reportedSize, headers, true);
    }
    boolean unseen = !capture.hitLimit();
    return RecordedBody.owned(capture.take(), Math.max(capture.total(), reportedSize), headers, unseen);
  }

  /** Derives HAR phases from what the public API shows; -1 where a phase was not observed. */
  private static ExchangeTimings timings(InFlight s, long completedNanos, boolean answered) {
    if (s.proceedNanos == 0) {
      // Answered without going upstream (a fault, a filter, a replay): waiting for that answer,
      // not receiving one (probe testkit F4: a dropped exchange showed a receive phase).
      return ExchangeTimings.of(-1, -1, 0, millis(completedNanos - s.startedNanos), 0);
    }
    long released = Math.max(s.proceedNanos, s.releasedNanos);
    // From the exchange's start, so that the phases add up to its time: the filters before the
    // request went on took a first request's 28 ms that no phase showed (probe testkit F4).
    double blocked = millis(released - s.startedNanos);
    double connect = s.connectedNanos == 0 || s.reused ? -1 : millis(s.connectedNanos - released);
    long sendStart = s.connectedNanos != 0 ? s.connectedNanos : released;
    long sendEnd = sendStart;
    if (s.requestBody != null && s.requestBody.endNanos() != 0) {
      sendEnd = Math.max(sendStart, Math.min(s.requestBody.endNanos(), s.headersNanos));
    }
    double send = millis(sendEnd - sendStart);
    long end = s.responseBody != null && s.responseBody.endNanos() != 0
        ? s.responseBody.endNanos() : completedNanos;
    if (s.headersNanos == 0 || !answered) {
      // No response reached the client: the time after sending went waiting, none receiving.
      return ExchangeTimings.of(blocked, connect, send, millis(end - sendEnd), 0);
    }
    double wait = millis(s.headersNanos - sendEnd);
    double receive = millis(end - s.headersNanos);
    return ExchangeTimings.of(blocked, connect, send, wait, receive);
  }

  private static double millis(long nanos) {
    return Math.max(0, nanos) / 1_000_000.0;
  }
}
