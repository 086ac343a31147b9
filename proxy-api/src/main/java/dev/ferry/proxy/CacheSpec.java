package dev.ferry.proxy;

import java.time.Clock;
import java.util.Objects;

/**
 * Configures the proxy's shared HTTP cache (RFC 9111): an in-memory store bounded in bytes.
 *
 * <pre>{@code
 * ProxyServer.builder().cache(CacheSpec.inMemory().maxSizeMb(50).maxEntryBytes(5 << 20));
 * }</pre>
 *
 * <p>Values are immutable; each method returns a changed copy.
 */
public final class CacheSpec {
  private final int maxSizeMb;
  private final long maxEntryBytes;
  private final String statusHeader;
  private final Clock clock;
  private final String targetedField;
  private final boolean hideTargetedField;

  private CacheSpec(int maxSizeMb, long maxEntryBytes, String statusHeader, Clock clock,
      String targetedField, boolean hideTargetedField) {
    this.maxSizeMb = maxSizeMb;
    this.maxEntryBytes = maxEntryBytes;
    this.statusHeader = statusHeader;
    this.clock = clock;
    this.targetedField = targetedField;
    this.hideTargetedField = hideTargetedField;
  }

  /** An in-memory cache of 10 MB, entries up to 1 MiB, reporting itself in {@code X-Cache}. */
  public static CacheSpec inMemory() {
    return new CacheSpec(10, 1 << 20, "X-Cache", Clock.systemUTC(), "CDN-Cache-Control", false);
  }

  /**
   * The most memory the stored responses may take, in MiB; default 10.
   *
   * @throws IllegalArgumentException unless between 1 and 1048576
   */
  public CacheSpec maxSizeMb(int maxSizeMb) {
    if (maxSizeMb < 1 || maxSizeMb > 1 << 20) {
      throw new IllegalArgumentException("maxSizeMb must be between 1 and 1048576 (was " + maxSizeMb + ")");
    }
    return new CacheSpec(maxSizeMb, maxEntryBytes, statusHeader, clock, targetedField, hideTargetedField);
  }

  /**
   * The largest body stored; larger ones stream through uncached. Default 1 MiB.
   *
   * @throws IllegalArgumentException unless between 1 and {@code maxSizeMb} MiB
   */
  public CacheSpec maxEntryBytes(long maxEntryBytes) {
    if (maxEntryBytes < 1 || maxEntryBytes > (long) maxSizeMb << 20) {
      throw new IllegalArgumentException("maxEntryBytes must be between 1 and maxSizeMb MiB ("
          + ((long) maxSizeMb << 20) + ") (was " + maxEntryBytes + ")");
    }
    return new CacheSpec(maxSizeMb, maxEntryBytes, statusHeader, clock, targetedField, hideTargetedField);
  }

  /**
   * The response header that tells HIT, MISS, REVALIDATED, STALE or BYPASS; default
   * {@code X-Cache}.
   *
   * @throws IllegalArgumentException if it is not a valid field name
   */
  public CacheSpec statusHeader(String name) {
    Headers.checkName(name);
    return new CacheSpec(maxSizeMb, maxEntryBytes, name, clock, targetedField, hideTargetedField);
  }

  /** The clock that ages entries; default UTC system time. Tests pass a controllable one. */
  public CacheSpec clock(Clock clock) {
    return new CacheSpec(maxSizeMb, maxEntryBytes, statusHeader, Objects.requireNonNull(clock, "clock"),
        targetedField, hideTargetedField);
  }

  /**
   * The targeted cache-control field (RFC 9213) that, in reverse mode, takes precedence over
   * {@code Cache-Control} and {@code Expires} for Ferry's own caching; default
   * {@code CDN-Cache-Control}. Forward proxies ignore it.
   *
   * @throws IllegalArgumentException if it is not a valid field name
   */
  public CacheSpec targetedField(String name) {
    Headers.checkName(name);
    return new CacheSpec(maxSizeMb, maxEntryBytes, statusHeader, clock, name, hideTargetedField);
  }

  /** In reverse mode, removes the targeted field from responses sent to clients. Off by default. */
  public CacheSpec hideTargetedField() {
    return new CacheSpec(maxSizeMb, maxEntryBytes, statusHeader, clock, targetedField, true);
  }

  /** See {@link #targetedField(String)}. */
  public String targetedField() {
    return targetedField;
  }

  /** See {@link #hideTargetedField()}. */
  public boolean hidesTargetedField() {
    return hideTargetedField;
  }

  /** See {@link #maxSizeMb(int)}. */
  public int maxSizeMb() {
    return maxSizeMb;
  }

  /** See {@link #maxEntryBytes(long)}. */
  public long maxEntryBytes() {
    return maxEntryBytes;
  }

  /** See {@link #statusHeader(String)}. */
  public String statusHeader() {
    return statusHeader;
  }

  /** See {@link #clock(Clock)}. */
  public Clock clock() {
    return clock;
  }

  @Override
  public boolean equals(Object other) {
    if (!(other instanceof CacheSpec)) {
      return false;
    }
    CacheSpec that = (CacheSpec) other;
    return maxSizeMb == that.maxSizeMb && maxEntryBytes == that.maxEntryBytes
        && statusHeader.equals(that.statusHeader) && clock.equals(that.clock)
        && targetedField.equals(that.targetedField) && hideTargetedField == that.hideTargetedField;
  }

  @Override
  public int hashCode() {
    return Objects.hash(maxSizeMb, maxEntryBytes, statusHeader, clock, targetedField, hideTargetedField);
  }

  /** Returns {@code inMemory(maxSizeMb=10, maxEntryBytes=1048576)}. */
  @Override
  public String toString() {
    return "inMemory(maxSizeMb=" + maxSizeMb + ", maxEntryBytes=" + maxEntryBytes + ")";
  }
}
