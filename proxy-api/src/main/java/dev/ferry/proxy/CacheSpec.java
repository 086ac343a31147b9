package dev.ferry.proxy;

import java.time.Clock;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * Configures the proxy's shared HTTP cache (RFC 9111): by default an in-memory store bounded in
 * bytes, or any {@link CacheStore} given to {@link #store(CacheStore)}.
 *
 * <pre>{@code
 * ProxyServer.builder().cache(CacheSpec.inMemory().maxSizeBytes(50L << 20).maxEntryBytes(5 << 20));
 * }</pre>
 *
 * <p>Values are immutable; each method returns a changed copy. Each method checks its own
 * argument; how the options relate (an entry fits in the cache) is checked once, when the proxy
 * is built, so they may be set in any order.
 *
 * <p>As nginx and Varnish do by default, the cache does not store responses that carry
 * {@code Set-Cookie}: one client's session cookie must not be replayed to the next. Opt in with
 * {@link #storeSetCookie(boolean)}.
 */
public final class CacheSpec {
  private static final long MAX_SIZE_BYTES = 1L << 40;
  private static final List<String> LOOPBACK = List.of("127.0.0.0/8", "::1");

  private final long maxSizeBytes;
  private final long maxEntryBytes;
  private final String statusHeader;
  private final Clock clock;
  private final String targetedField;
  private final boolean hideTargetedField;
  private final boolean storeSetCookie;
  private final CacheStore store;
  private final List<String> purgeClients;

  private CacheSpec(long maxSizeBytes, long maxEntryBytes, String statusHeader, Clock clock,
      String targetedField, boolean hideTargetedField, boolean storeSetCookie, CacheStore store,
      List<String> purgeClients) {
    this.maxSizeBytes = maxSizeBytes;
    this.maxEntryBytes = maxEntryBytes;
    this.statusHeader = statusHeader;
    this.clock = clock;
    this.targetedField = targetedField;
    this.hideTargetedField = hideTargetedField;
    this.storeSetCookie = storeSetCookie;
    this.store = store;
    this.purgeClients = purgeClients;
  }

  /**
   * An in-memory cache of 10 MiB, entries up to 1 MiB, reporting itself in {@code X-Cache}, not
   * storing {@code Set-Cookie} responses.
   */
  public static CacheSpec inMemory() {
    return new CacheSpec(10L << 20, 1L << 20, "X-Cache", Clock.systemUTC(), "CDN-Cache-Control",
        false, false, null, LOOPBACK);
  }

  /**
   * The most memory the stored responses may take, in bytes; default 10 MiB ({@code 10L << 20}).
   * Bodies of 16 KiB or more are kept off the Java heap, in direct memory, so that a hit is
   * written without a copy; they count against this bound like any other. Direct memory is given
   * back when the garbage collector finds an evicted body unreachable, so the off-heap bytes,
   * including those awaiting collection, are held to this bound and to half the JVM's direct
   * memory limit ({@code -XX:MaxDirectMemorySize}); past either, bodies stay on the heap. Where
   * hits go out on platform threads (the bounded pool, thread per connection) and with the
   * built-in store, bodies of 64 KiB or more go first to unlinked files of their own in
   * {@code /dev/shm} (shared memory, not disk), from which a hit on a plain connection is sent by
   * the kernel ({@code sendfile}); they count against this bound too, and against half the shared
   * memory free when the first was made, at most 8,192 files and an eighth of the free file
   * descriptors; past those, or where {@code /dev/shm} is missing or full, they stay in memory.
   * {@link CacheStats#directBytes()}, {@link CacheStats#fileBytes()} and
   * {@link CacheStats#bodyFiles()} report what is held where.
   *
   * @throws IllegalArgumentException unless between 1 and 1 TiB (1099511627776)
   */
  public CacheSpec maxSizeBytes(long maxSizeBytes) {
    if (maxSizeBytes < 1 || maxSizeBytes > MAX_SIZE_BYTES) {
      throw new IllegalArgumentException(String.format(Locale.ROOT,
          "maxSizeBytes must be between 1 and %d (was %d)", MAX_SIZE_BYTES, maxSizeBytes));
    }
    return new CacheSpec(maxSizeBytes, maxEntryBytes, statusHeader, clock, targetedField,
        hideTargetedField, storeSetCookie, store, purgeClients);
  }

  /**
   * The largest body stored, in bytes; larger ones stream through uncached. Default 1 MiB. It
   * must not exceed {@link #maxSizeBytes(long)}, which building the proxy checks. An entry
   * weighs its URL and head besides its body ({@link CacheEntry#weightBytes()}): with the two
   * equal, a body within that weight of the bound is not stored either.
   *
   * @throws IllegalArgumentException if less than 1
   */
  public CacheSpec maxEntryBytes(long maxEntryBytes) {
    if (maxEntryBytes < 1) {
      throw new IllegalArgumentException("maxEntryBytes must be at least 1 (was " + maxEntryBytes + ")");
    }
    return new CacheSpec(maxSizeBytes, maxEntryBytes, statusHeader, clock, targetedField,
        hideTargetedField, storeSetCookie, store, purgeClients);
  }

  /**
   * The response header that tells HIT, MISS, REVALIDATED, STALE or BYPASS; default
   * {@code X-Cache}.
   *
   * @throws IllegalArgumentException if it is not a valid field name, is one the proxy manages
   *     itself ({@link Headers#isProxyManaged}: Host, framing, hop-by-hop) or sets itself (trace
   *     context, {@code Via}...), or one with a meaning of its own ({@code Cache-Control},
   *     {@code Content-Type}, {@code Set-Cookie}...), which the status would replace
   */
  public CacheSpec statusHeader(String name) {
    OwnFields.check(name, "statusHeader");
    return new CacheSpec(maxSizeBytes, maxEntryBytes, name, clock, targetedField, hideTargetedField,
        storeSetCookie, store, purgeClients);
  }

  /** The clock that ages entries; default UTC system time. Tests pass a controllable one. */
  public CacheSpec clock(Clock clock) {
    return new CacheSpec(maxSizeBytes, maxEntryBytes, statusHeader, Objects.requireNonNull(clock, "clock"),
        targetedField, hideTargetedField, storeSetCookie, store, purgeClients);
  }

  /**
   * The targeted cache-control field (RFC 9213) that, in reverse mode, takes precedence over
   * {@code Cache-Control} and {@code Expires} for Ferry's own caching; default
   * {@code CDN-Cache-Control}. Forward proxies ignore it.
   *
   * @throws IllegalArgumentException if it is not a valid field name, or names a field with a
   *     meaning of its own ({@code Cache-Control}, {@code Content-Length}...): read as
   *     targeted, and with {@link #hideTargetedField()} removed from every response
   */
  public CacheSpec targetedField(String name) {
    OwnFields.check(name, "targetedField");
    return new CacheSpec(maxSizeBytes, maxEntryBytes, statusHeader, clock, name, hideTargetedField,
        storeSetCookie, store, purgeClients);
  }

  /** In reverse mode, removes the targeted field from responses sent to clients. Off by default. */
  public CacheSpec hideTargetedField() {
    return new CacheSpec(maxSizeBytes, maxEntryBytes, statusHeader, clock, targetedField, true,
        storeSetCookie, store, purgeClients);
  }

  /**
   * Whether responses carrying {@code Set-Cookie} may be stored and then served, cookie included,
   * to other clients. Off by default, as in nginx and Varnish; turn it on only when the origin's
   * cookies are the same for everyone.
   */
  public CacheSpec storeSetCookie(boolean storeSetCookie) {
    return new CacheSpec(maxSizeBytes, maxEntryBytes, statusHeader, clock, targetedField,
        hideTargetedField, storeSetCookie, store, purgeClients);
  }

  /**
   * The store that keeps the responses, in place of the default in-memory one; see
   * {@link CacheStore}. The store bounds itself: {@link #maxSizeBytes(long)} then sizes nothing,
   * while {@link #maxEntryBytes(long)} still caps what is offered to it. Proxies built from
   * specs with the same store share its entries.
   */
  public CacheSpec store(CacheStore store) {
    return new CacheSpec(maxSizeBytes, maxEntryBytes, statusHeader, clock, targetedField,
        hideTargetedField, storeSetCookie, Objects.requireNonNull(store, "store"), purgeClients);
  }

  /**
   * The clients that may remove an entry with the {@code PURGE} method (Varnish's and Squid's
   * convention) sent to the proxy's own port, as address blocks ({@code 10.0.0.0/8},
   * {@code 2001:db8::/32}, a bare address); default loopback ({@code 127.0.0.0/8} and
   * {@code ::1}). Each call replaces the earlier list; none ({@code purgeFrom()}) turns the
   * method off, so that every {@code PURGE} is answered 403.
   *
   * <p>Behind a reverse proxy on the same host (nginx in front of Ferry), every client reaches
   * Ferry from loopback, and the default would let anyone purge: turn the method off there and
   * purge through the admin listener ({@link ProxyServer.Builder#admin}) or
   * {@link ProxyCache#purge} instead.
   *
   * <pre>{@code
   * CacheSpec.inMemory().purgeFrom("10.1.0.0/16");   // the deploy hosts only
   * CacheSpec.inMemory().purgeFrom();                // PURGE refused to everyone
   * }</pre>
   *
   * @throws IllegalArgumentException naming a block that is not an IP address with a prefix
   *     length that fits it
   */
  public CacheSpec purgeFrom(String... cidrs) {
    Objects.requireNonNull(cidrs, "cidrs");
    for (String cidr : cidrs) {
      Cidr.check(Objects.requireNonNull(cidr, "cidrs contains null"));
    }
    return new CacheSpec(maxSizeBytes, maxEntryBytes, statusHeader, clock, targetedField,
        hideTargetedField, storeSetCookie, store, List.of(cidrs));
  }

  /** See {@link #purgeFrom(String...)}; empty when the {@code PURGE} method is off. */
  public List<String> purgeClients() {
    return purgeClients;
  }

  /** See {@link #store(CacheStore)}; empty for the default in-memory store. */
  public Optional<CacheStore> store() {
    return Optional.ofNullable(store);
  }

  /** See {@link #targetedField(String)}. */
  public String targetedField() {
    return targetedField;
  }

  /** See {@link #hideTargetedField()}. */
  public boolean hidesTargetedField() {
    return hideTargetedField;
  }

  /** See {@link #storeSetCookie(boolean)}. */
  public boolean storesSetCookie() {
    return storeSetCookie;
  }

  /** See {@link #maxSizeBytes(long)}. */
  public long maxSizeBytes() {
    return maxSizeBytes;
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

  /**
   * Checks how the options relate; the one place they are checked, called when the proxy is
   * built so that the order of the calls does not matter.
   *
   * @throws IllegalStateException if an entry could not fit in the cache
   */
  void checkConsistent() {
    if (maxEntryBytes > maxSizeBytes) {
      throw new IllegalStateException(String.format(Locale.ROOT,
          "maxEntryBytes must not exceed maxSizeBytes (was %d > %d); raise maxSizeBytes or lower maxEntryBytes",
          maxEntryBytes, maxSizeBytes));
    }
  }

  @Override
  public boolean equals(Object other) {
    if (!(other instanceof CacheSpec)) {
      return false;
    }
    CacheSpec that = (CacheSpec) other;
    return maxSizeBytes == that.maxSizeBytes && maxEntryBytes == that.maxEntryBytes
        && statusHeader.equals(that.statusHeader) && clock.equals(that.clock)
        && targetedField.equals(that.targetedField) && hideTargetedField == that.hideTargetedField
        && storeSetCookie == that.storeSetCookie && Objects.equals(store, that.store)
        && purgeClients.equals(that.purgeClients);
  }

  @Override
  public int hashCode() {
    return Objects.hash(maxSizeBytes, maxEntryBytes, statusHeader, clock, targetedField,
        hideTargetedField, storeSetCookie, store, purgeClients);
  }

  /**
   * Returns {@code inMemory(maxSizeBytes=10485760, maxEntryBytes=1048576)}, with
   * {@code , storeSetCookie=true} and {@code , store=...} when they are set.
   */
  @Override
  public String toString() {
    // Every option a default does not set, so that a refused reconfiguration shows what differs.
    return "inMemory(maxSizeBytes=" + maxSizeBytes + ", maxEntryBytes=" + maxEntryBytes
        + (storeSetCookie ? ", storeSetCookie=true" : "") + (store == null ? "" : ", store=" + store)
        + (statusHeader.equals("X-Cache") ? "" : ", statusHeader=" + statusHeader)
        + (targetedField.equals("CDN-Cache-Control") ? "" : ", targetedField=" + targetedField)
        + (hideTargetedField ? ", hideTargetedField=true" : "")
        + (purgeClients.equals(LOOPBACK) ? "" : ", purgeFrom=" + purgeClients)
        + (clock.equals(Clock.systemUTC()) ? "" : ", clock=" + clock) + ")";
  }
}
