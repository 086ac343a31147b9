package dev.ferry.proxy.engine.cache;

import dev.ferry.proxy.CacheEntry;
import java.lang.ref.WeakReference;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Function;

/**
 * What a hit needs of a stored entry beyond its fields: the Cache-Control that governs it, its
 * freshness lifetime and initial age (RFC 9111 §4.2), and the file its body is in. Worked out
 * once per entry and {@linkplain Memo remembered}: parsing the same fields again on every hit
 * (Cache-Control twice, Date twice, Age) and looking up the body's file took a fifth of a
 * 100 KiB hit's time in Java. An entry never changes (a freshened one is a new entry), so what
 * it says never goes stale; only its age grows, with the clock.
 *
 * <p>Holds its entry and its body's file weakly: remembered facts keep nothing stored alive.
 */
final class StoredFacts extends WeakReference<CacheEntry> {
  /** The stored response's Cache-Control, of the fields that govern caching. */
  final CacheControl response;
  final long lifetimeSeconds;
  private final long initialAgeSeconds;
  private final Instant responseTime;
  private final WeakReference<BodyFiles.Region> region;

  /**
   * @param response the Cache-Control of {@code stored}'s {@linkplain Entries#policy policy}
   * @param lifetimeSeconds its freshness lifetime, by that policy
   * @param region the file its body is in, or null
   */
  StoredFacts(CacheEntry stored, CacheControl response, long lifetimeSeconds, BodyFiles.Region region) {
    super(stored);
    this.response = response;
    this.lifetimeSeconds = lifetimeSeconds;
    this.initialAgeSeconds = Freshness.initialAgeSeconds(stored);
    this.responseTime = stored.responseTime();
    this.region = region == null ? null : new WeakReference<>(region);
  }

  /** RFC 9111 §4.2.3 current_age at {@code now} (see {@link Freshness#currentAgeSeconds}). */
  long currentAgeSeconds(Instant now) {
    return Freshness.currentAgeSeconds(initialAgeSeconds, responseTime, now);
  }

  /** How long past its freshness lifetime the entry is at {@code now}; negative while fresh. */
  long stalenessSeconds(Instant now) {
    return currentAgeSeconds(now) - lifetimeSeconds;
  }

  /**
   * The file the entry's whole body is in, or null if it is in memory. A body in a file is
   * found for as long as its entry is held: the body store keeps the file while the entry lives.
   */
  BodyFiles.Region region() {
    return region == null ? null : region.get();
  }

  /**
   * The facts of recently seen entries: a table of 1,024 slots indexed by the entry's identity
   * hash, each holding the last entry seen there. An entry that another has taken the slot of is
   * worked out again when it comes back; one hot entry (the usual load on a cache) is worked out
   * once. Safe for any number of threads: a slot is replaced whole.
   */
  static final class Memo {
    private static final int SLOTS = 1024;
    private final AtomicReferenceArray<StoredFacts> slots = new AtomicReferenceArray<>(SLOTS);
    private final Function<CacheEntry, StoredFacts> workOut;

    /** @param workOut makes the facts of an entry not remembered */
    Memo(Function<CacheEntry, StoredFacts> workOut) {
      this.workOut = workOut;
    }

    StoredFacts of(CacheEntry stored) {
      int slot = System.identityHashCode(stored) & (SLOTS - 1);
      StoredFacts known = slots.get(slot);
      if (known != null && known.get() == stored) {
        return known;
      }
      StoredFacts made = workOut.apply(stored);
      slots.set(slot, made);
      return made;
    }
  }
}
