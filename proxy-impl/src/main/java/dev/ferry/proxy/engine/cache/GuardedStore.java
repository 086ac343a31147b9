package dev.ferry.proxy.engine.cache;

import dev.ferry.proxy.CacheEntry;
import dev.ferry.proxy.CacheStore;
import dev.ferry.proxy.engine.http1.LogValues;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An application's {@link CacheStore} whose failures (a shared store's network, a bug) do not
 * fail the exchange: a lookup that throws is a miss, a put or a remove that throws stores or
 * removes nothing, and the request is served from the origin as without a cache. The first
 * failure is logged {@code cache_store_failed} as a warning, the rest at debug. Before, a lookup
 * that threw crashed the client's connection, and a put that threw was answered 502 as the
 * origin's fault (probe e14); a purge of one URL that throws says nothing was removed.
 * {@code removeIf}, {@code clear} and the counts go through as they are: their callers (code,
 * the admin endpoint, stats) see the failure.
 */
final class GuardedStore implements CacheStore {
  private static final Logger log = LoggerFactory.getLogger(GuardedStore.class);

  private final CacheStore store;
  private final AtomicBoolean warned = new AtomicBoolean();

  GuardedStore(CacheStore store) {
    this.store = store;
  }

  @Override
  public List<CacheEntry> variants(String key) {
    try {
      return store.variants(key);
    } catch (RuntimeException e) {
      failed("variants", e);
      return List.of();
    }
  }

  @Override
  public void put(String key, CacheEntry entry) {
    try {
      store.put(key, entry);
    } catch (RuntimeException e) {
      failed("put", e);
    }
  }

  @Override
  public boolean remove(String key) {
    try {
      return store.remove(key);
    } catch (RuntimeException e) {
      failed("remove", e);
      return false;
    }
  }

  @Override
  public void removeIf(Predicate<String> key) {
    store.removeIf(key);
  }

  @Override
  public void clear() {
    store.clear();
  }

  @Override
  public long entryCount() {
    return store.entryCount();
  }

  @Override
  public long byteCount() {
    return store.byteCount();
  }

  @Override
  public long evictionCount() {
    return store.evictionCount();
  }

  private void failed(String call, RuntimeException e) {
    if (warned.compareAndSet(false, true)) {
      log.warn("cache_store_failed call={} error={} (served without the cache; logged once, then at debug)",
          call, LogValues.quoted(e.toString()), e);
    } else {
      log.debug("cache_store_failed call={} error={}", call, LogValues.quoted(e.toString()));
    }
  }
}
