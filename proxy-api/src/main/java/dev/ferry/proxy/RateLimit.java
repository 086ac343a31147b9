package dev.ferry.proxy;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * A token bucket per key: each key may send {@code burst} requests at once and then
 * {@code perSecond} requests a second. Over the limit, the answer is 429 with
 * {@code Retry-After}. The key is the client address, or the value of a header such as an API
 * key.
 *
 * <pre>{@code
 * Filter limit = Filters.rateLimit().perSecond(10).burst(20).keyHeader("X-Api-Key").build();
 * }</pre>
 *
 * <p>Memory is bounded: at most {@code maxKeys} buckets are kept, least recently used first out.
 * A bucket that is dropped would have refilled anyway unless the key was active, so a flood of
 * distinct clients costs bounded memory and at worst lets an evicted key start again full.
 */
public final class RateLimit implements Filter {
  private final double perNano;
  private final double burst;
  private final String keyHeader;
  private final LongSupplier ticker;
  private final ReentrantLock lock = new ReentrantLock();
  private final LinkedHashMap<String, double[]> buckets;

  private RateLimit(Builder builder) {
    this.perNano = builder.perSecond / 1e9;
    this.burst = builder.burst;
    this.keyHeader = builder.keyHeader;
    this.ticker = builder.ticker;
    int maxKeys = builder.maxKeys;
    this.buckets = new LinkedHashMap<>(16, 0.75f, true) {
      private static final long serialVersionUID = 1L;

      @Override
      protected boolean removeEldestEntry(Map.Entry<String, double[]> eldest) {
        return size() > maxKeys;
      }
    };
  }

  static Builder builder() {
    return new Builder();
  }

  @Override
  public Response handle(Exchange exchange, Chain chain) throws IOException {
    String key = keyHeader == null ? null : exchange.request().headers().first(keyHeader).orElse(null);
    if (key == null) {
      key = exchange.clientAddress().getAddress().getHostAddress();
    }
    double waitSeconds = take(key);
    if (waitSeconds > 0) {
      long retryAfter = Math.max(1, (long) Math.ceil(waitSeconds));
      return Response.text(429, "Too many requests: retry after " + retryAfter + " s\n")
          .withHeader("Retry-After", Long.toString(retryAfter));
    }
    return chain.proceed(exchange.request());
  }

  /** Takes a token for {@code key}; returns 0 on success, else the seconds until one is due. */
  double take(String key) {
    long now = ticker.getAsLong();
    lock.lock();
    try {
      double[] bucket = buckets.get(key);
      if (bucket == null) {
        bucket = new double[] {burst, now};
        buckets.put(key, bucket);
      }
      double tokens = Math.min(burst, bucket[0] + (now - (long) bucket[1]) * perNano);
      bucket[1] = now;
      if (tokens >= 1) {
        bucket[0] = tokens - 1;
        return 0;
      }
      bucket[0] = tokens;
      return (1 - tokens) / (perNano * 1e9);
    } finally {
      lock.unlock();
    }
  }

  /** Buckets held now. */
  int keys() {
    lock.lock();
    try {
      return buckets.size();
    } finally {
      lock.unlock();
    }
  }

  @Override
  public String toString() {
    return String.format(Locale.ROOT, "RateLimit(%.3g/s, burst %d%s)", perNano * 1e9, (long) burst,
        keyHeader == null ? "" : ", key " + keyHeader);
  }

  /** A mutable builder of {@link RateLimit}. Not thread-safe. */
  public static final class Builder {
    private double perSecond = 10;
    private int burst = 20;
    private String keyHeader;
    private int maxKeys = 100_000;
    private LongSupplier ticker = System::nanoTime;

    private Builder() {}

    /**
     * Sustained requests a second per key; default 10.
     *
     * @throws IllegalArgumentException unless positive and finite
     */
    public Builder perSecond(double perSecond) {
      if (!(perSecond > 0) || Double.isInfinite(perSecond)) {
        throw new IllegalArgumentException("perSecond must be positive (was " + perSecond + ")");
      }
      this.perSecond = perSecond;
      return this;
    }

    /**
     * Requests a key may send at once; default 20.
     *
     * @throws IllegalArgumentException unless at least 1
     */
    public Builder burst(int burst) {
      if (burst < 1) {
        throw new IllegalArgumentException("burst must be at least 1 (was " + burst + ")");
      }
      this.burst = burst;
      return this;
    }

    /** Keys buckets by this request header's value (falling back to the client address). */
    public Builder keyHeader(String name) {
      Headers.checkName(name);
      this.keyHeader = name;
      return this;
    }

    /**
     * The most buckets kept; default 100000.
     *
     * @throws IllegalArgumentException unless at least 1
     */
    public Builder maxKeys(int maxKeys) {
      if (maxKeys < 1) {
        throw new IllegalArgumentException("maxKeys must be at least 1 (was " + maxKeys + ")");
      }
      this.maxKeys = maxKeys;
      return this;
    }

    /** The nanosecond time source; default {@link System#nanoTime()}. For tests. */
    public Builder ticker(LongSupplier ticker) {
      this.ticker = Objects.requireNonNull(ticker, "ticker");
      return this;
    }

    /** Returns the filter. */
    public RateLimit build() {
      return new RateLimit(this);
    }
  }
}
