package dev.ferry.proxy;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Objects;

/**
 * One stored response as a {@link CacheStore} holds it: status, header fields, the complete
 * body (or, for a stored {@code 206}, the one range its {@code Content-Range} names), the times
 * RFC 9111 §4.2.3 ages it by, and the key of its {@code Vary} variant.
 *
 * <p>Values are immutable: {@link #of} copies the body, {@link #body()} is a read-only view. A
 * store may keep them as they are (in memory) or serialise the accessors (a shared tier).
 */
public final class CacheEntry {
  private final int status;
  private final String reason;
  private final Headers headers;
  private final byte[] body;
  private final Instant requestTime;
  private final Instant responseTime;
  private final String variantKey;

  private CacheEntry(int status, String reason, Headers headers, byte[] body, Instant requestTime,
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
   * @param variantKey the normalised request values of the fields {@code Vary} names; entries of
   *     one URL with equal keys replace each other
   * @throws IllegalArgumentException if {@code status} is not between 100 and 999
   */
  public static CacheEntry of(int status, String reason, Headers headers, byte[] body,
      Instant requestTime, Instant responseTime, String variantKey) {
    if (status < 100 || status > 999) {
      throw new IllegalArgumentException("status must be between 100 and 999 (was " + status + ")");
    }
    return new CacheEntry(status, Objects.requireNonNull(reason, "reason"),
        Objects.requireNonNull(headers, "headers"), body.clone(),
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

  /** A read-only view of the stored body bytes, positioned at 0; each call returns a new view. */
  public ByteBuffer body() {
    return ByteBuffer.wrap(body).asReadOnlyBuffer();
  }

  /** The number of stored body bytes. */
  public int bodyLength() {
    return body.length;
  }

  /** When the request that fetched this response was sent. */
  public Instant requestTime() {
    return requestTime;
  }

  /** When this response's head arrived. */
  public Instant responseTime() {
    return responseTime;
  }

  /** The key of this entry's {@code Vary} variant; empty when the response has no {@code Vary}. */
  public String variantKey() {
    return variantKey;
  }

  /** The memory this entry takes, roughly, in bytes: body, header text and a fixed overhead. */
  public long weightBytes() {
    return body.length + headers.toString().length() * 2L + variantKey.length() * 2L + 256;
  }

  /** Returns {@code CacheEntry(200, 1234 bytes, variant="...")}; never the body or header values. */
  @Override
  public String toString() {
    return "CacheEntry(" + status + ", " + body.length + " bytes, variant=\"" + variantKey + "\")";
  }
}
