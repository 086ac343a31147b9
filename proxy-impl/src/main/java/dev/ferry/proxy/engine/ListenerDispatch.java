package dev.ferry.proxy.engine;

import dev.ferry.proxy.Exchange;
import dev.ferry.proxy.ExchangeListener;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.engine.http1.LogValues;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Calls every listener, isolating the exchange from their failures: a listener's exception is
 * logged at warn the first time and at debug after that, and never reaches the exchange.
 */
final class ListenerDispatch {
  private static final Logger log = LoggerFactory.getLogger(ListenerDispatch.class);

  private final List<ExchangeListener> listeners;
  private final Set<ExchangeListener> reported = ConcurrentHashMap.newKeySet();
  private final boolean wantsResponseHeaders;
  private final boolean completionOnly;

  ListenerDispatch(List<ExchangeListener> listeners) {
    this.listeners = listeners;
    this.wantsResponseHeaders = listeners.stream().anyMatch(ListenerDispatch::overridesResponseHeaders);
    this.completionOnly = listeners.stream().allMatch(listener ->
        !overrides(listener, "exchangeStarted", Exchange.class)
            && !overrides(listener, "upstreamConnected", Exchange.class, InetSocketAddress.class, boolean.class)
            && !overridesResponseHeaders(listener));
  }

  /**
   * True if no listener has more than its own {@code exchangeCompleted}: an exchange on an event
   * loop, which has no {@link Exchange} to show, may then run ({@link LoopExchange}).
   */
  boolean completionOnly() {
    return completionOnly;
  }

  private static boolean overrides(ExchangeListener listener, String method, Class<?>... parameters) {
    try {
      return listener.getClass().getMethod(method, parameters).getDeclaringClass() != ExchangeListener.class;
    } catch (NoSuchMethodException e) {
      return true;
    }
  }

  boolean isEmpty() {
    return listeners.isEmpty();
  }

  /**
   * True if some listener has its own {@code responseHeaders}: only then does the exchange build
   * the response as sent (with its request ID) for them.
   */
  boolean wantsResponseHeaders() {
    return wantsResponseHeaders;
  }

  private static boolean overridesResponseHeaders(ExchangeListener listener) {
    return overrides(listener, "responseHeaders", Exchange.class, Response.class);
  }

  void each(Consumer<ExchangeListener> call) {
    for (ExchangeListener listener : listeners) {
      try {
        call.accept(listener);
      } catch (RuntimeException | AssertionError | LinkageError | StackOverflowError e) {
        // As for filters: what the listener's code throws, never the JVM's own failures.
        if (reported.add(listener)) {
          log.warn("listener_failed listener={} error={}", listener, LogValues.quoted(e.toString()), e);
        } else {
          log.debug("listener_failed listener={} error={}", listener, LogValues.quoted(e.toString()));
        }
      }
    }
  }
}
