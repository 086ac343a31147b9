package dev.ferry.proxy;

import java.net.InetSocketAddress;

/**
 * Observes exchanges without changing them: metrics, access logs and traffic recording build on
 * it. Every method has a no-op default, so a listener overrides only what it needs.
 *
 * <pre>{@code
 * ExchangeListener slowRequests = new ExchangeListener() {
 *   public void exchangeCompleted(ExchangeSummary summary) {
 *     if (summary.duration().toMillis() > 500) {
 *       log.warn("slow {}", summary);
 *     }
 *   }
 * };
 * ProxyServer.builder().listener(slowRequests);
 * }</pre>
 *
 * <p>Listeners are called on the connection's thread and must not block. An exception a listener
 * throws is caught and logged; it never affects the exchange.
 */
public interface ExchangeListener {

  /** Called when a request head has been read and parsed, before any filter runs. */
  default void exchangeStarted(Exchange exchange) {}

  /** Called when a connection to the upstream is ready for this exchange, new or reused. */
  default void upstreamConnected(Exchange exchange, InetSocketAddress upstream, boolean reused) {}

  /** Called when the response head is about to be written to the client. */
  default void responseHeaders(Exchange exchange, Response response) {}

  /**
   * Called once per exchange when it ends, after the last byte was written or when it failed;
   * {@link ExchangeSummary#failure()} tells which.
   */
  default void exchangeCompleted(ExchangeSummary summary) {}
}
