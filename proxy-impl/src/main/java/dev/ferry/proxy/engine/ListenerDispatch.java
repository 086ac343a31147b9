package dev.ferry.proxy.engine;

import dev.ferry.proxy.ExchangeListener;
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

  ListenerDispatch(List<ExchangeListener> listeners) {
    this.listeners = listeners;
  }

  boolean isEmpty() {
    return listeners.isEmpty();
  }

  void each(Consumer<ExchangeListener> call) {
    for (ExchangeListener listener : listeners) {
      try {
        call.accept(listener);
      } catch (RuntimeException e) {
        if (reported.add(listener)) {
          log.warn("listener_failed listener={} error={}", listener, e.toString(), e);
        } else {
          log.debug("listener_failed listener={} error={}", listener, e.toString());
        }
      }
    }
  }
}
