package dev.ferry.proxy.engine;

import dev.ferry.proxy.ExchangeSummary;
import dev.ferry.proxy.Headers;
import dev.ferry.proxy.engine.http1.LogValues;
import dev.ferry.proxy.engine.http1.LoggedUrls;
import dev.ferry.proxy.engine.upstream.HostNames;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What an exchange says when it ends: {@code exchange_failed} for an answer the proxy made,
 * {@code request_complete} at debug, the access-log entry and the listeners' summary. The
 * exchange builds one only when something will read it. Logged under {@link RealExchange}'s name.
 *
 * @param connectionId the client connection's ID
 * @param client the client's address
 * @param method the request's method (the head's, when no request was built); null when not
 *     even the request line could be read
 * @param url the request's URL (the head's target, when no request was built); null likewise
 * @param requestHeaders the fields as received, for the access log's referer and user agent;
 *     null when none were read
 * @param requestBodyBytes body bytes read from the client
 * @param bodyBytes response body bytes written to the client
 * @param route the matched route's name, or null
 * @param upstream the endpoint that answered, or null
 * @param cache the cache verdict, or null
 * @param traceId the trace the exchange belongs to, or null
 * @param failure the {@code ProxyFailure} name, or null
 */
record ExchangeReport(long id, long connectionId, InetSocketAddress client, Instant startTime, long nanos,
    String method, String url, String version, Headers requestHeaders, long requestBodyBytes,
    int status, long bodyBytes, String route, String upstream, String cache, String requestId,
    String traceId, String failure) {
  private static final Logger log = LoggerFactory.getLogger(RealExchange.class);

  /**
   * Accounts for an answer the proxy gave before any request head was read (a connection past the
   * limit, plain HTTP on the TLS port) like any exchange: counted, timed, and reported with
   * method and URL unknown.
   *
   * @param startNanos when the connection was accepted
   * @param logFailure false when the caller logs the failure itself
   */
  static void headless(RealProxyServer server, long connectionId, InetSocketAddress client, long startNanos,
      int status, long bodyBytes, String failure, boolean logFailure) {
    long nanos = System.nanoTime() - startNanos;
    server.metrics().exchanges.increment();
    if (status > 0) {
      server.metrics().status(status);
    }
    server.metrics().failure(failure);
    server.metrics().latency.record(nanos);
    new ExchangeReport(server.nextExchangeId(), connectionId, client, Instant.now().minusNanos(nanos), nanos,
        null, null, null, null, 0, status, bodyBytes, null, null, null, null, null, failure)
        .emit(server, logFailure, true);
  }

  /** True if anything would read a report: otherwise the exchange builds none. */
  static boolean wanted(RealProxyServer server, boolean failed) {
    return failed || log.isDebugEnabled() || server.accessLog().isEnabled()
        || !server.listeners().isEmpty();
  }

  void emit(RealProxyServer server) {
    emit(server, true, true);
  }

  /**
   * @param logFailure false when the caller logs the failure itself ({@code exchange_failed} is
   *     left out)
   * @param traffic false for a request to the proxy's own endpoints: logged, but no exchange to
   *     the listeners, whose metrics and recordings are of the traffic proxied
   */
  void emit(RealProxyServer server, boolean logFailure, boolean traffic) {
    Duration duration = Duration.ofNanos(nanos);
    boolean failed = logFailure && failure != null && status > 0;
    boolean accessLogged = server.accessLog().isEnabled();
    // Only what a log line will show is redacted: listeners get the URL as it was.
    String logged = failed || accessLogged || log.isDebugEnabled() ? LoggedUrls.redact(url) : url;
    if (failed) {
      log.info("exchange_failed failure={} status={} bytes={} method={} uri={} client={} rid={} conn={} ex={}",
          failure, status, bodyBytes, orDash(method), uriField(logged), clientText(),
          ridField(), connectionId, id);
    }
    if (log.isDebugEnabled()) {
      log.debug("request_complete method={} uri={} status={} bytes={} latency_ms={} client={} rid={} conn={} ex={}{}{}",
          orDash(method), uriField(logged), status, bodyBytes, duration.toMillis(), clientText(), ridField(),
          connectionId, id, routing(), failure == null ? "" : " failure=" + failure);
    }
    if (accessLogged) {
      server.accessLog().write(new AccessLog.Entry(startTime,
          HostNames.addressText(client.getAddress()), method, logged, version,
          status, bodyBytes, duration.toMillis(), upstream, route, cache, requestId, traceId,
          failure, requestHeaders));
    }
    if (traffic && !server.listeners().isEmpty()) {
      ExchangeSummary summary = summary(duration);
      server.listeners().each(l -> l.exchangeCompleted(summary));
    }
  }

  /** The client's address for logs: {@code 127.0.0.1:5000}, {@code [::1]:5000}. */
  private String clientText() {
    return HostNames.authorityText(client.getAddress(), client.getPort());
  }

  /** The {@code uri=} value: {@code -} when unknown, quoted when it needs to be (see {@link LogValues}). */
  private static String uriField(String url) {
    return url == null ? "-" : LogValues.of(url);
  }

  /** A client's request ID may hold {@code =}: quoted then, so a logfmt parser reads it whole. */
  private String ridField() {
    return requestId == null ? "-" : LogValues.of(requestId);
  }

  /** What is not known shows as {@code -}, as in the access log. */
  private static String orDash(String value) {
    return value == null ? "-" : value;
  }

  /** The {@code route= upstream= cache=} fields of the debug line, those that apply. */
  private String routing() {
    if (route == null && upstream == null && cache == null) {
      return "";
    }
    StringBuilder fields = new StringBuilder();
    if (route != null) {
      fields.append(" route=").append(LogValues.of(route));
    }
    if (upstream != null) {
      fields.append(" upstream=").append(upstream);
    }
    if (cache != null) {
      fields.append(" cache=").append(cache);
    }
    return fields.toString();
  }

  private ExchangeSummary summary(Duration duration) {
    ExchangeSummary.Builder summary = ExchangeSummary.builder()
        .id(id).connectionId(connectionId).clientAddress(client)
        .method(orDash(method)).url(orDash(url)).status(status)
        .requestBodyBytes(requestBodyBytes)
        .responseBodyBytes(bodyBytes).startTime(startTime).duration(duration);
    if (upstream != null) {
      summary.upstream(upstream);
    }
    if (requestId != null) {
      summary.requestId(requestId);
    }
    if (traceId != null) {
      summary.traceId(traceId);
    }
    if (route != null) {
      summary.route(route);
    }
    if (cache != null) {
      summary.cache(cache);
    }
    if (failure != null) {
      summary.failure(failure);
    }
    return summary.build();
  }
}
