package dev.ferry.proxy;

import java.io.IOException;
import java.util.Locale;
import java.util.Optional;

/**
 * A token bucket per key: each key may send {@code burst} requests at once and then
 * {@code perSecond} requests a second. Over the limit, the answer is 429 with
 * {@code Retry-After}.
 *
 * <pre>{@code
 * Filter limit = Filters.rateLimit().perSecond(10).burst(20).build();
 * }</pre>
 *
 * <p>The key is the client's IP address. With {@link Builder#keyHeader}, it is that request
 * header's value instead (clients without the header fall back to their address). A header is
 * client-controlled: a client that may choose its value can spread its requests over as many
 * buckets as it likes, so key by a header only when something earlier (authentication, or a
 * trusted front proxy that sets it) vouches for the value.
 *
 * <p>Memory is bounded: at most {@link #maxKeys()} buckets are kept, and a bucket idle long
 * enough to have refilled is dropped, which changes nothing since a new one starts full. When
 * more keys than that are active, the ones used least are dropped first, so a flood of distinct
 * keys costs bounded memory and at worst lets an evicted key start again full.
 *
 * <p>This is a configuration value; the engine supplies the behaviour.
 */
public final class RateLimit implements Filter {
  private final double perSecond;
  private final int burst;
  private final String keyHeader;
  private final int maxKeys;
  private final Realised realised = new Realised(this);

  private RateLimit(Builder builder) {
    this.perSecond = builder.perSecond;
    // Unset, twice the rate (as the CLI's --rate-limit): a limit of 1/s is not 20 at once.
    this.burst = builder.burst > 0 ? builder.burst : (int) Math.max(1, Math.ceil(Math.min(2 * perSecond, Integer.MAX_VALUE)));
    this.keyHeader = builder.keyHeader;
    this.maxKeys = builder.maxKeys;
  }

  static Builder builder() {
    return new Builder();
  }

  /** Sustained requests a second per key. */
  public double perSecond() {
    return perSecond;
  }

  /** Requests a key may send at once. */
  public int burst() {
    return burst;
  }

  /** The request header whose value keys the buckets, if not the client address. */
  public Optional<String> keyHeader() {
    return Optional.ofNullable(keyHeader);
  }

  /** The most buckets kept at once. */
  public int maxKeys() {
    return maxKeys;
  }

  /** Runs the engine's implementation of this limit. */
  @Override
  public Response handle(Exchange exchange, Chain chain) throws IOException {
    return realised.handle(exchange, chain);
  }

  @Override
  public String toString() {
    return String.format(Locale.ROOT, "RateLimit(%.3g/s, burst %d%s)", perSecond, burst,
        keyHeader == null ? "" : ", key " + keyHeader);
  }

  /** A mutable builder of {@link RateLimit}. Not thread-safe. */
  public static final class Builder {
    private double perSecond = 10;
    private int burst;
    private String keyHeader;
    private int maxKeys = 100_000;

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
     * Requests a key may send at once; default twice {@link #perSecond} (20 for the default 10).
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

    /**
     * Keys buckets by this request header's value, falling back to the client address when it is
     * absent; default: the client address. The value is client-controlled; see the class comment.
     *
     * @throws IllegalArgumentException if it is not a valid header name
     */
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

    /** Returns the limit. */
    public RateLimit build() {
      return new RateLimit(this);
    }
  }
}
