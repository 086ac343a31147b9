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
  private final Cache<String, TokenBucket> buckets;

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
      long retryAfter = Math.max(1, (long) Math.ceil(waitSeconds));
      exchange.attribute(ProxyAnswer.class, new ProxyAnswer(ProxyFailure.RATE_LIMITED));
      return Response.text(429, "Too many requests: retry after " + retryAfter + " s\n")
          .withHeader("Retry-After", Long.toString(retryAfter));
    }
    return chain.proceed(exchange.request());
  }

  /** The token is taken once the loop serves the request ({@link #take(Request, InetSocketAddress)}). */
  @Override
  public Request passes(Request request, InetSocketAddress client) {
    return request;
  }

  @Override
  public boolean take(Request request, InetSocketAddress client) {
    return take(key(request, client)) == 0;
  }

  /** Prefixed, so that a header value cannot name (and drain) another client's address bucket. */
  private String key(Request request, InetSocketAddress client) {
    if (keyHeader != null) {
      String value = request.headers().first(keyHeader).orElse(null);
      if (value != null) {
        return "header:" + value;
      }
    }
    return "client:" + client.getAddress().getHostAddress();
  }

  /** Takes a token for {@code key}; returns 0 on success, else the seconds until one is due. */
  double take(String key) {
    long now = ticker.getAsLong();
    return buckets.get(key, k -> new TokenBucket(burst, now)).take(now, perNano, burst);
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
