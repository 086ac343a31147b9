package dev.ferry.proxy.testkit;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * One recorded request-response exchange. Immutable and safe to share between threads.
 *
 * <p>{@link #connectionId()} and {@link #sequence()} tell which client connection carried the
 * exchange and where on it, so a test can assert connection reuse: two exchanges with the same
 * connection id went over one keep-alive connection.
 */
public final class RecordedExchange {
  private final long id;
  private final long connectionId;
  private final int sequence;
  private final Instant startTime;
  private final Duration duration;
  private final InetSocketAddress clientAddress;
  private final RecordedRequest request;
  private final RecordedResponse response;
  private final ExchangeTimings timings;
  private final String upstream;
  private final String requestId;
  private final String traceId;
  private final String cache;
  private final String failure;
  private final String fault;
  private final boolean faultChangedResponse;
  private final boolean replayed;
  private final boolean unmatched;
  private final boolean proxyMade;
  private final long order;

  private RecordedExchange(Builder b) {
    this.id = b.id;
    this.connectionId = b.connectionId;
    this.sequence = b.sequence;
    this.startTime = Objects.requireNonNull(b.startTime, "startTime");
    this.duration = Objects.requireNonNull(b.duration, "duration");
    this.clientAddress = b.clientAddress;
    this.request = Objects.requireNonNull(b.request, "request");
    this.response = Objects.requireNonNull(b.response, "response");
    this.timings = Objects.requireNonNull(b.timings, "timings");
    this.upstream = b.upstream;
    this.requestId = b.requestId;
    this.traceId = b.traceId;
    this.cache = b.cache;
    this.failure = b.failure;
    this.fault = b.fault;
    this.faultChangedResponse = b.faultChangedResponse;
    this.replayed = b.replayed;
    this.unmatched = b.unmatched;
    this.proxyMade = b.proxyMade;
    this.order = b.order;
  }

  static Builder builder() {
    return new Builder();
  }

  Builder toBuilder() {
    Builder b = new Builder();
    b.id = id;
    b.connectionId = connectionId;
    b.sequence = sequence;
    b.startTime = startTime;
    b.duration = duration;
    b.clientAddress = clientAddress;
    b.request = request;
    b.response = response;
    b.timings = timings;
    b.upstream = upstream;
    b.requestId = requestId;
    b.traceId = traceId;
    b.cache = cache;
    b.failure = failure;
    b.fault = fault;
    b.faultChangedResponse = faultChangedResponse;
    b.replayed = replayed;
    b.unmatched = unmatched;
    b.proxyMade = proxyMade;
    b.order = order;
    return b;
  }

  /** The exchange's id within its proxy, counting from 1 (0 for an imported exchange). */
  public long id() {
    return id;
  }

  /** The client connection that carried it, counting from 1 (0 if unknown). */
  public long connectionId() {
    return connectionId;
  }

  /** Its position on the connection: 1 for the first request, then 2... (0 if unknown). */
  public int sequence() {
    return sequence;
  }

  /** When the request head was read. */
  public Instant startTime() {
    return startTime;
  }

  /** Time from the request head to the last response byte or the failure. */
  public Duration duration() {
    return duration;
  }

  /** The client's address; empty for an exchange imported from a HAR file. */
  public Optional<InetSocketAddress> clientAddress() {
    return Optional.ofNullable(clientAddress);
  }

  /** The request as the client sent it. */
  public RecordedRequest request() {
    return request;
  }

  /** The response as the client received it; {@link RecordedResponse#none()} if none was sent. */
  public RecordedResponse response() {
    return response;
  }

  /** Where the time went. */
  public ExchangeTimings timings() {
    return timings;
  }

  /** The request ID the proxy gave the exchange (the client's own when it sent one). */
  public Optional<String> requestId() {
    return Optional.ofNullable(requestId);
  }

  /** The W3C trace id the exchange belongs to. */
  public Optional<String> traceId() {
    return Optional.ofNullable(traceId);
  }

  /** The upstream that served it, as {@code host:port}; empty if none was contacted. */
  public Optional<String> upstream() {
    return Optional.ofNullable(upstream);
  }

  /** The cache's verdict ({@code HIT}, {@code MISS}...), if the proxy has a cache. */
  public Optional<String> cache() {
    return Optional.ofNullable(cache);
  }

  /** Why the exchange failed, such as {@code UPSTREAM_TIMEOUT}; empty if it completed. */
  public Optional<String> failure() {
    return Optional.ofNullable(failure);
  }

  /**
   * True if an injected fault changed the response (its status, or cut it off), so it is not
   * the origin's; latency and bandwidth faults only slow it down.
   */
  boolean faultChangedResponse() {
    return faultChangedResponse;
  }

  /** The fault injected into it, described, if one was. */
  public Optional<String> fault() {
    return Optional.ofNullable(fault);
  }

  /**
   * True if a replaying proxy answered it from a recording instead of the network. Never for a
   * CONNECT: a replaying proxy that intercepts HTTPS answers an intercepted one itself (no
   * recording holds it), and its session's requests are replayed or not on their own.
   */
  public boolean replayed() {
    return replayed;
  }

  /**
   * True if a replaying proxy found no recorded exchange it could replay for it (and answered
   * 502): none matched, or only ones that cannot be replayed (a body cut or left out, no
   * response, a protocol switch), whose 502 says why.
   */
  public boolean unmatched() {
    return unmatched;
  }

  /**
   * True if the proxy made the response itself rather than relaying one: a 502 for a failed
   * connect, a 504 for a timeout, a limit's 4xx. {@link #failure()} names the cause. An answer
   * a filter of your own made (a stub added with {@code configure(b -> b.filter(...))}) is not:
   * the recorder sees it come back through the filter chain as an origin's answer does, and
   * {@code recordIfMissing} keeps it like one.
   */
  public boolean proxyMade() {
    return proxyMade;
  }

  /** The order in which the exchange started on its proxy, for per-test views; 0 if imported. */
  long order() {
    return order;
  }

  /** The captured body bytes this exchange holds in memory, as accounted in the byte budget. */
  long retainedBytes() {
    return request.body().capturedSize() + response.body().capturedSize();
  }

  /** Returns a one-line description: {@code #3 conn=1/2 GET http://h/p -> 200 OK (12 ms)}. */
  @Override
  public String toString() {
    return "#" + id + " conn=" + connectionId + "/" + sequence + " " + request + " -> " + response
        + " (" + duration.toMillis() + " ms"
        + (replayed ? ", replayed" : "") + (unmatched ? ", unmatched" : "")
        + (proxyMade ? ", proxy-made" : "")
        + (fault == null ? "" : ", fault " + fault)
        + (failure == null ? "" : ", failure " + failure) + ")";
  }

  /** Assembles a recorded exchange; used by the recorder and the HAR reader. */
  static final class Builder {
    long id;
    long connectionId;
    int sequence;
    Instant startTime;
    Duration duration = Duration.ZERO;
    InetSocketAddress clientAddress;
    RecordedRequest request;
    RecordedResponse response = RecordedResponse.none();
    ExchangeTimings timings = ExchangeTimings.of(-1, -1, -1, -1, -1);
    String upstream;
    String requestId;
    String traceId;
    String cache;
    String failure;
    String fault;
    boolean faultChangedResponse;
    boolean replayed;
    boolean unmatched;
    boolean proxyMade;
    long order;

    RecordedExchange build() {
      return new RecordedExchange(this);
    }
  }
}
