package dev.ferry.proxy;

import java.io.IOException;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The engine's implementation of one built-in filter value, made on first use. A proxy replaces
 * built-in values by its own implementations when it is built, so this path only serves a value
 * called outside that, such as one wrapped by {@link Filters#when}. The implementation is made
 * once so that its state (a rate limiter's buckets) lives as long as the value.
 */
final class Realised {
  private final Filter builtIn;
  private final ReentrantLock lock = new ReentrantLock();
  private volatile Filter filter;

  Realised(Filter builtIn) {
    this.builtIn = builtIn;
  }

  Response handle(Exchange exchange, Filter.Chain chain) throws IOException {
    return filter().handle(exchange, chain);
  }

  private Filter filter() {
    Filter realised = filter;
    if (realised != null) {
      return realised;
    }
    lock.lock();
    try {
      if (filter == null) {
        filter = EngineLoader.engine().realise(builtIn);
      }
      return filter;
    } finally {
      lock.unlock();
    }
  }
}
