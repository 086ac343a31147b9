package dev.ferry.proxy.engine;

import dev.ferry.proxy.engine.http1.HeadParser;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.RequestHead;
import dev.ferry.proxy.engine.trace.RequestIds;
import java.time.Instant;

/**
 * Answers a request whose head could not be read (malformed, too large, too slow) and accounts
 * for it like any exchange: counted, logged as {@code exchange_failed} with its byte count, in
 * the access log, and reported to listeners. What the parser read before the failure is kept:
 * a head that failed after its request line has its method, target and request ID (the
 * client's, if it came before the bad field) on the answer and in the log; one that failed in
 * its request line is reported with method and URL unknown ({@code -}). The connection then
 * ends, with a lingering close.
 */
final class RejectedHead {
  private RejectedHead() {}

  static void answer(RealProxyServer server, ClientConnection connection, HttpFailureException e,
      Instant startTime, long startNanos, HeadParser parser) {
    server.metrics().exchanges.increment();
    server.metrics().failure(e.failure().name());
    if (e.failure().status() > 0) {
      server.metrics().status(e.failure().status());
    }
    connection.linger().ask();
    RequestHead partial = parser.partialRequest();
    String requestId = partial == null ? null
        : RequestIds.keepOrGenerate(partial.headers(), server.configuration().requestIdHeader());
    ResponseSender.Outcome sent = connection.sendError(e, partial == null ? null : partial.headers(),
        requestId, parser.failedOnHeadRequest());
    long bytes = sent == null ? 0 : sent.bodyBytes();
    long nanos = System.nanoTime() - startNanos;
    server.metrics().latency.record(nanos);
    new ExchangeReport(server.nextExchangeId(), connection.id(), connection.clientAddress(), startTime, nanos,
        partial == null ? null : partial.method(), partial == null ? null : partial.target(),
        partial == null ? null : partial.version(), partial == null ? null : partial.headers(), 0,
        e.failure().status(), bytes, null, null, null, requestId, null, e.failure().name())
        .emit(server);
  }
}
