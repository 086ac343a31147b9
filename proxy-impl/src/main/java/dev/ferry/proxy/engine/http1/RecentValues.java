package dev.ferry.proxy.engine.http1;

import java.nio.charset.StandardCharsets;

/**
 * The strings an event loop's heads carried lately, handed out again when the same bytes come:
 * a method, a request target, a reason phrase, a field value. An origin's answers repeat most of
 * theirs ({@code Server}, {@code Content-Type}, {@code ETag}, a {@code Date} for a second),
 * as clients do theirs ({@code User-Agent}, {@code Accept}): the head of a proxied 1 KiB answer
 * made a {@code String} and its array per field, 16 % of what a loop's exchange allocated.
 *
 * <p>A direct-mapped table keyed by a hash of the bytes: a collision only makes a new string, as
 * without the table. Values longer than {@value #MAX_LENGTH} bytes are not kept, and callers keep
 * only what says nothing secret ({@link #keeps}: the values of well-known fields that many
 * messages share, a target without a query), so that no client's credential or token outlives
 * its exchange here. Owned by one thread (its loop); not thread-safe.
 */
public final class RecentValues {
  private static final int SLOTS = 256;
  static final int MAX_LENGTH = 128;
  /**
   * Fields whose values many messages share and which carry no secret: only theirs are kept
   * (never an {@code Authorization}, a cookie, or an application's own field, which may be a token).
   */
  private static final NameSet SHARED = NameSet.of("Accept", "Accept-Encoding", "Accept-Language",
      "Accept-Ranges", "Age", "Cache-Control", "Connection", "Content-Encoding", "Content-Language",
      "Content-Length", "Content-Type", "Date", "ETag", "Expires", "Host", "Keep-Alive",
      "Last-Modified", "Pragma", "Server", "Transfer-Encoding", "User-Agent", "Vary", "Via");

  private final String[] strings = new String[SLOTS];

  /** The string of {@code bytes[from, to)} read as ISO-8859-1: one made before if it is still here. */
  public String of(byte[] bytes, int from, int to) {
    int length = to - from;
    if (length > MAX_LENGTH) {
      return new String(bytes, from, length, StandardCharsets.ISO_8859_1);
    }
    int hash = length;
    for (int i = from; i < to; i++) {
      hash = 31 * hash + bytes[i];
    }
    int slot = (hash ^ (hash >>> 16)) & (SLOTS - 1);
    String known = strings[slot];
    if (known != null && sameBytes(known, bytes, from, length)) {
      return known;
    }
    String made = new String(bytes, from, length, StandardCharsets.ISO_8859_1);
    strings[slot] = made;
    return made;
  }

  /** Whether values of the field {@code name} are kept (see {@link #SHARED}). */
  static boolean keeps(String name) {
    return SHARED.contains(name);
  }

  private static boolean sameBytes(String known, byte[] bytes, int from, int length) {
    if (known.length() != length) {
      return false;
    }
    for (int i = 0; i < length; i++) {
      if (known.charAt(i) != (bytes[from + i] & 0xff)) {
        return false;
      }
    }
    return true;
  }
}
