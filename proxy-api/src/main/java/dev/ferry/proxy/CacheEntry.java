package dev.ferry.proxy;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Objects;

/**
 * One stored response as a {@link CacheStore} holds it: status, header fields, the complete
 * body (or, for a stored {@code 206}, the one range its {@code Content-Range} names), the times
 * RFC 9111 §4.2.3 ages it by, and the key of its {@code Vary} variant.
 *
 * <p>Values are immutable: {@link #of(int, String, Headers, byte[], Instant, Instant, String)}
 * copies the body, {@link #of(int, String, Headers, ByteBuffer, Instant, Instant, String)} takes
 * a buffer over, and {@link #body()} is a read-only view. A store may keep them as they are (in
 * memory) or serialise the accessors (a shared tier). The proxy stores bodies of 16 KiB or more
 * in direct buffers, off the Java heap, so that a hit is written to the socket without a copy
 * (see {@link CacheSpec#maxSizeBytes(long)}); {@link #body()} then returns a direct view.
 */
public final class CacheEntry {
  private final int status;
  private final String reason;
  private final Headers headers;
  /** Read-only, positioned at 0; only ever handed out as duplicates, so never moved. */
  private final ByteBuffer body;
  private final Instant requestTime;
  private final Instant responseTime;
  private final String variantKey;

  private CacheEntry(int status, String reason, Headers headers, ByteBuffer body, Instant requestTime,
      Instant responseTime, String variantKey) {
    this.status = status;
    this.reason = reason;
    this.headers = headers;
    this.body = body;
    this.requestTime = requestTime;
    this.responseTime = responseTime;
    this.variantKey = variantKey;
  }

  /**
   * Returns an entry holding a copy of {@code body}.
   *
   * @param requestTime when the request that fetched the response was sent
   * @param responseTime when the response's head arrived
   * @param variantKey the normalised request values of the fields {@code Vary} names, after the
   *     route's pool where routes pick pools; entries of one URL with equal keys replace each
   *     other
   * @throws IllegalArgumentException if {@code status} is not between 100 and 999
   */
  public static CacheEntry of(int status, String reason, Headers headers, byte[] body,
      Instant requestTime, Instant responseTime, String variantKey) {
    return of(status, reason, headers, ByteBuffer.wrap(body.clone()), requestTime, responseTime, variantKey);
  }

  /**
   * Returns an entry holding {@code body}'s remaining bytes without copying them: the buffer is
   * handed over, and its contents must not change afterwards. Pass a direct buffer to keep the
   * body off the Java heap.
   *
   * <pre>{@code
   * ByteBuffer offHeap = ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
   * CacheEntry entry = CacheEntry.of(200, "OK", headers, offHeap, requested, responded, "");
   * }</pre>
   *
   * @param requestTime when the request that fetched the response was sent
   * @param responseTime when the response's head arrived
   * @param variantKey the normalised request values of the fields {@code Vary} names, after the
   *     route's pool where routes pick pools; entries of one URL with equal keys replace each
   *     other
   * @throws IllegalArgumentException if {@code status} is not between 100 and 999
   */
  public static CacheEntry of(int status, String reason, Headers headers, ByteBuffer body,
      Instant requestTime, Instant responseTime, String variantKey) {
    if (status < 100 || status > 999) {
      throw new IllegalArgumentException("status must be between 100 and 999 (was " + status + ")");
    }
    return new CacheEntry(status, Objects.requireNonNull(reason, "reason"),
        Objects.requireNonNull(headers, "headers"), body.slice().asReadOnlyBuffer(),
        Objects.requireNonNull(requestTime, "requestTime"), Objects.requireNonNull(responseTime, "responseTime"),
        Objects.requireNonNull(variantKey, "variantKey"));
  }

  /** Returns this entry with other header fields and times, as a {@code 304} leaves it (RFC 9111 §4.3.4). */
  public CacheEntry withHeaders(Headers headers, Instant requestTime, Instant responseTime) {
    return new CacheEntry(status, reason, Objects.requireNonNull(headers, "headers"), body,
        Objects.requireNonNull(requestTime, "requestTime"), Objects.requireNonNull(responseTime, "responseTime"),
        variantKey);
  }

  /** The stored status code; {@code 206} marks a partial entry. */
  public int status() {
    return status;
  }

  /** The stored reason phrase. */
  public String reason() {
    return reason;
  }

  /** The stored header fields. */
  public Headers headers() {
    return headers;
  }

  /**
   * A read-only view of the stored body bytes, positioned at 0; each call returns a new view.
   * It is direct when the body is stored off the heap.
   */
  public ByteBuffer body() {
    return body.duplicate();
  }

  /** The number of stored body bytes. */
  public int bodyLength() {
    return body.remaining();
  }

  /** When the request that fetched this response was sent. */
  public Instant requestTime() {
    return requestTime;
  }

  /** When this response's head arrived. */
  public Instant responseTime() {
    return responseTime;
  }

  /**
   * The key of this entry's variant: the route's pool, where routes pick pools, and the request
   * values of the fields {@code Vary} names; empty for a response without {@code Vary} stored
   * without routes.
   */
  public String variantKey() {
    return variantKey;
  }

  /** The memory this entry takes, roughly, in bytes: body, header text and a fixed overhead. */
  public long weightBytes() {
    return body.remaining() + textLength(headers) * 2L + variantKey.length() * 2L + 256;
  }

  /** The length of {@code headers}' text ("name: value" lines), without building it: weighed on every store. */
  private static long textLength(Headers headers) {
    long length = 0;
    for (int i = 0; i < headers.size(); i++) {
      length += headers.name(i).length() + 2 + headers.value(i).length() + 1;
    }
    return length;
  }

  /** Returns {@code CacheEntry(200, 1234 bytes, variant="...")}; never the body or header values. */
  @Override
  public String toString() {
    return "CacheEntry(" + status + ", " + body.remaining() + " bytes, variant=\"" + variantKey + "\")";
  }
}
