package dev.ferry.proxy.engine.balance;

import java.nio.charset.StandardCharsets;

/**
 * xxHash64 (Yann Collet's XXH64, seed 0), written out here so the engine gains no dependency.
 * Consistent hashing needs a hash whose every output bit depends on every input bit:
 * {@code String.hashCode} is 32 bits and clusters similar keys ({@code user-1}, {@code user-2})
 * next to each other on the ring.
 */
final class XxHash64 {
  private static final long PRIME1 = 0x9E3779B185EBCA87L;
  private static final long PRIME2 = 0xC2B2AE3D27D4EB4FL;
  private static final long PRIME3 = 0x165667B19E3779F9L;
  private static final long PRIME4 = 0x85EBCA77C2B2AE63L;
  private static final long PRIME5 = 0x27D4EB2F165667C5L;

  private XxHash64() {}

  static long hash(String text) {
    return hash(text.getBytes(StandardCharsets.UTF_8));
  }

  static long hash(byte[] input) {
    int length = input.length;
    int i = 0;
    long h;
    if (length >= 32) {
      long v1 = PRIME1 + PRIME2;
      long v2 = PRIME2;
      long v3 = 0;
      long v4 = -PRIME1;
      for (; i <= length - 32; i += 32) {
        v1 = round(v1, longAt(input, i));
        v2 = round(v2, longAt(input, i + 8));
        v3 = round(v3, longAt(input, i + 16));
        v4 = round(v4, longAt(input, i + 24));
      }
      h = Long.rotateLeft(v1, 1) + Long.rotateLeft(v2, 7) + Long.rotateLeft(v3, 12)
          + Long.rotateLeft(v4, 18);
      h = merge(merge(merge(merge(h, v1), v2), v3), v4);
    } else {
      h = PRIME5;
    }
    h += length;
    for (; i <= length - 8; i += 8) {
      h ^= round(0, longAt(input, i));
      h = Long.rotateLeft(h, 27) * PRIME1 + PRIME4;
    }
    if (i <= length - 4) {
      h ^= (intAt(input, i) & 0xFFFFFFFFL) * PRIME1;
      h = Long.rotateLeft(h, 23) * PRIME2 + PRIME3;
      i += 4;
    }
    for (; i < length; i++) {
      h ^= (input[i] & 0xFFL) * PRIME5;
      h = Long.rotateLeft(h, 11) * PRIME1;
    }
    // Avalanche: spreads the last bytes' influence over all 64 bits.
    h ^= h >>> 33;
    h *= PRIME2;
    h ^= h >>> 29;
    h *= PRIME3;
    h ^= h >>> 32;
    return h;
  }

  private static long round(long accumulator, long input) {
    return Long.rotateLeft(accumulator + input * PRIME2, 31) * PRIME1;
  }

  private static long merge(long accumulator, long value) {
    return (accumulator ^ round(0, value)) * PRIME1 + PRIME4;
  }

  private static long longAt(byte[] b, int i) {
    return (intAt(b, i) & 0xFFFFFFFFL) | ((long) intAt(b, i + 4) << 32);
  }

  /** Little-endian, as the reference implementation reads on x86. */
  private static int intAt(byte[] b, int i) {
    return (b[i] & 0xFF) | (b[i + 1] & 0xFF) << 8 | (b[i + 2] & 0xFF) << 16 | (b[i + 3] & 0xFF) << 24;
  }
}
