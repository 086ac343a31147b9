package dev.ferry.proxy.engine;

import dev.ferry.proxy.ExchangeSummary;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers a request whose head could not be read (malformed, too large, too slow) and accounts
 * for it like any exchange: counted, logged as {@code exchange_failed} with its byte count, in
 * the access log, and reported to listeners as an exchange whose method and URL are unknown
 * ({@code -}), so recordings miss nothing. The connection then ends, with a lingering close.
 */
final class RejectedHead {
  private static final Logger log = LoggerFactory.getLogger(RejectedHead.class);

  private RejectedHead() {}

  /** @param headRequest whether the request was a HEAD, as far as its head was read: no body then */
  static void answer(RealProxyServer server, ClientConnection connection, HttpFailureException e,
      Instant startTime, long startNanos, boolean headRequest) {
    server.metrics().exchanges.increment();
    server.metrics().failure(e.failure().name());
    if (e.failure().status() > 0) {
      server.metrics().status(e.failure().status());
    }
    connection.lingerOnClose();
    ResponseSender.Outcome sent = connection.sendError(e, null, null, headRequest);
    long bytes = sent == null ? 0 : sent.bodyBytes();
    log.info("exchange_failed failure={} status={} bytes={} detail=\"{}\" client={} conn={}", e.failure(),
        e.failure().status(), bytes, e.detail(), connection.clientAddress(), connection.id());
    long nanos = System.nanoTime() - startNanos;
    server.metrics().latency.record(nanos);
    server.accessLog().write(new AccessLog.Entry(startTime,
        connection.clientAddress().getAddress().getHostAddress(), null, null, null,
        e.failure().status(), bytes, nanos / 1_000_000, null, null, null, null, null,
        e.failure().name(), null));
    if (!server.listeners().isEmpty()) {
      ExchangeSummary summary = ExchangeSummary.builder().id(server.nextExchangeId())
          .connectionId(connection.id()).clientAddress(connection.clientAddress())
          .method("-").url("-").status(e.failure().status()).startTime(startTime)
          .duration(Duration.ofNanos(nanos)).failure(e.failure().name()).build();
      server.listeners().each(listener -> listener.exchangeCompleted(summary));
    }
  }
}
