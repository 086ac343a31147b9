package dev.ferry.proxy.testkit;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The bytes of one body as they stream through, kept up to a cap; the rest is only counted. The
 * stream's reader (one connection thread) writes; the recorder reads after the exchange ends.
 *
 * <p>Memory: bytes are kept in chunks, each reserved from the recording's byte budget before it
 * is allocated. A chunk is as large as the write that needs it, or as what is kept already (so
 * that chunks double), at least 1 KiB and at most 16 KiB, but the room beyond the write is taken
 * only where the budget has it free: for the bytes of the write itself the recording may drop
 * its oldest exchanges ({@link RecordingOverflow#DROP_OLDEST}), for room to grow never. Once the
 * body ends, its last chunk is cut to what it holds and the rest handed back. So a small body
 * reserves its own size, and exchanges that fit the budget together are all kept, also when
 * the budget is far below 16 KiB. When the budget refuses (after the recording dropped what it
 * could), the capture stops keeping bytes and the body is marked truncated. {@link #take()}
 * copies the chunks into one array and hands the unused reservation back.
 */
final class BodyCapture {
  private static final int MAX_CHUNK = 16 * 1024;
  private static final int MIN_CHUNK = 1024;

  private final int cap;
  private final Recording budget;
  private final List<byte[]> chunks = new ArrayList<>();
  private int kept;
  /** Bytes used of the last chunk. */
  private int used;
  private long reserved;
  private boolean refused;
  private boolean taken;
  private volatile long total;
  private volatile long endNanos;
  private volatile boolean complete;
  private volatile boolean broken;

  BodyCapture(int cap, Recording budget) {
    this.cap = cap;
    this.budget = budget;
  }

  synchronized void write(byte[] bytes, int offset, int length) {
    total += length;
    int from = offset;
    int left = Math.min(length, cap - kept);
    while (left > 0 && !refused && !taken) {
      if (chunks.isEmpty() || used == chunks.get(chunks.size() - 1).length) {
        int wanted = Math.max(left, Math.max(MIN_CHUNK, kept));
        int size = Math.min(cap - kept, Math.min(MAX_CHUNK, wanted));
        int needed = Math.min(left, MAX_CHUNK);
        // Evicting for a 1 KiB minimum a 50-byte body never used dropped every exchange kept
        // under a small budget (probe t24): room to grow is taken only if it is free.
        if (size == needed || !budget.reserveIfFree(size)) {
          size = needed;
          if (!budget.reserve(size)) {
            refused = true;
            budget.noteTruncated();
            break;
          }
        }
        reserved += size;
        chunks.add(new byte[size]);
        used = 0;
      }
      byte[] chunk = chunks.get(chunks.size() - 1);
      int n = Math.min(left, chunk.length - used);
      System.arraycopy(bytes, from, chunk, used, n);
      used += n;
      kept += n;
      from += n;
      left -= n;
    }
  }

  /**
   * Marks the end of the body: EOF seen, or the stream closed. Keeps the first mark. Hands back
   * the room the body did not use, so that it is free for the rest of the exchange (probe t24).
   */
  void end() {
    if (endNanos == 0) {
      endNanos = System.nanoTime();
    }
    trim();
  }

  private synchronized void trim() {
    if (taken || chunks.isEmpty()) {
      return;
    }
    int last = chunks.size() - 1;
    int unused = chunks.get(last).length - used;
    if (unused > 0) {
      chunks.set(last, Arrays.copyOf(chunks.get(last), used));
      budget.release(unused);
      reserved -= unused;
    }
  }

  /** Marks the body's EOF: every byte of it went through, and nothing is left to read. */
  void complete() {
    complete = true;
    end();
  }

  boolean isComplete() {
    return complete;
  }

  /** Marks the body's stream as failed: the client stalled or went away mid-body. */
  void broken() {
    broken = true;
  }

  boolean isBroken() {
    return broken;
  }

  /** How many more bytes it would keep: none once at its cap or refused by the budget. */
  synchronized int room() {
    return refused || taken ? 0 : cap - kept;
  }

  /**
   * True if a recording bound stopped it keeping bytes: the cap ({@code maxBodyBytes}) or the
   * byte budget. A body it holds only part of otherwise went by partly unseen.
   */
  synchronized boolean hitLimit() {
    return refused || kept >= cap;
  }

  long total() {
    return total;
  }

  long endNanos() {
    return endNanos;
  }

  /** Drops the kept bytes and hands their whole reservation back. */
  synchronized void discard() {
    chunks.clear();
    taken = true;
    budget.release(reserved);
    reserved = 0;
    kept = 0;
  }

  /**
   * Returns the kept bytes and releases the chunks; the returned array stays reserved in the
   * budget until the exchange holding it leaves the recording. Call once.
   */
  synchronized byte[] take() {
    byte[] all = new byte[kept];
    int at = 0;
    for (byte[] chunk : chunks) {
      int n = Math.min(chunk.length, kept - at);
      System.arraycopy(chunk, 0, all, at, n);
      at += n;
    }
    chunks.clear();
    taken = true;
    budget.release(reserved - kept);
    reserved = kept;
    return all;
  }
}
