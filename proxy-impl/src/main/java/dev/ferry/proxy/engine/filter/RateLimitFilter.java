package dev.ferry.proxy.engine.filter;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.ferry.proxy.Exchange;
import dev.ferry.proxy.Filter;
import dev.ferry.proxy.RateLimit;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.engine.http1.ProxyFailure;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The engine's {@link RateLimit}: a token bucket per key, the buckets in a Caffeine cache.
 *
 * <p>Memory: the cache holds at most {@code maxKeys} buckets and drops a bucket idle for as long
 * as it takes to refill, which loses nothing (a new bucket starts full). Past {@code maxKeys}
 * active keys, Caffeine's size eviction (W-TinyLFU) keeps the frequently used buckets, so a flood
 * of one-off keys cannot push a busy client's bucket out and reset its limit.
 *
 * <p>Concurrency: the cache is concurrent and each bucket has its own short lock, so unlike a
 * single LRU map behind one lock, clients do not queue behind each other. Cache maintenance runs
 * on the calling thread, not on a shared pool of the host application.
 */
final class RateLimitFilter implements Filter, CarriedOver, HeadCheck {
  private static final long MAX_IDLE_NANOS = TimeUnit.DAYS.toNanos(1);

  private final RateLimit config;
  private final double perNano;
  private final double burst;
  private final String keyHeader;
  private final LongSupplier ticker;
  private final Cache<Object, TokenBucket> buckets;

  RateLimitFilter(RateLimit config) {
    this(config, System::nanoTime);
  }

  /** With a time source in nanoseconds, for tests. */
  RateLimitFilter(RateLimit config, LongSupplier ticker) {
    this.config = config;
    this.perNano = config.perSecond() / 1e9;
    this.burst = config.burst();
    this.keyHeader = config.keyHeader().orElse(null);
    this.ticker = ticker;
    long refillNanos = (long) Math.min(MAX_IDLE_NANOS, Math.ceil(burst / perNano));
    this.buckets = Caffeine.newBuilder()
        .maximumSize(config.maxKeys())
        .expireAfterAccess(Duration.ofNanos(Math.max(1, refillNanos)))
        .ticker(ticker::getAsLong)
        .executor(Runnable::run)
        .build();
  }

  @Override
  public boolean sameAs(Filter builtIn) {
    return builtIn instanceof RateLimit other && other.perSecond() == config.perSecond()
        && other.burst() == config.burst() && other.keyHeader().equals(config.keyHeader())
        && other.maxKeys() == config.maxKeys();
  }

  @Override
  public Response handle(Exchange exchange, Chain chain) throws IOException {
    double waitSeconds = take(key(exchange.request(), exchange.clientAddress()));
    if (waitSeconds > 0) {
      exchange.attribute(ProxyAnswer.class, new ProxyAnswer(ProxyFailure.RATE_LIMITED));
      return tooMany(waitSeconds);
    }
    return chain.proceed(exchange.request());
  }

  /** The answer to a request that finds no token, the next due in {@code waitSeconds}. */
  private static Response tooMany(double waitSeconds) {
    long retryAfter = Math.max(1, (long) Math.ceil(waitSeconds));
    return Response.text(429, "Too many requests: retry after " + retryAfter + " s\n")
        .withHeader("Retry-After", Long.toString(retryAfter));
  }

  /** The token is taken once the loop serves the request ({@link #take(Request, InetSocketAddress)}). */
  @Override
  public Request passes(Request request, InetSocketAddress client, boolean forward) {
    return request;
  }

  /** Never asked: {@link #passes} passes every request on. */
  @Override
  public Refusal refusal(Request request, InetSocketAddress client, boolean forward) {
    return null;
  }

  @Override
  public Refusal take(Request request, InetSocketAddress client) {
    double waitSeconds = take(key(request, client));
    return waitSeconds == 0 ? null : Refusal.answer(tooMany(waitSeconds), ProxyFailure.RATE_LIMITED);
  }

  /**
   * The key header's value (a {@code String}), else the client's address (an {@code
   * InetAddress}, not its text, which would be made anew for each request): keys of two types,
   * so that a header value cannot name (and drain) a client's address bucket.
   */
  private Object key(Request request, InetSocketAddress client) {
    if (keyHeader != null) {
      String value = request.headers().first(keyHeader).orElse(null);
      if (value != null) {
        return value;
      }
    }
    return client.getAddress();
  }

  /** Takes a token for {@code key}; returns 0 on success, else the seconds until one is due. */
  double take(Object key) {
    long now = ticker.getAsLong();
    TokenBucket bucket = buckets.getIfPresent(key);
    if (bucket == null) {
      bucket = buckets.get(key, k -> new TokenBucket(burst, now));
    }
    return bucket.take(now, perNano, burst);
  }

  /** Buckets held now, after pending evictions. */
  long keys() {
    buckets.cleanUp();
    return buckets.estimatedSize();
  }

  @Override
  public String toString() {
    return config.toString();
  }
}
