package dev.ferry.proxy.engine;

import dev.ferry.proxy.engine.cache.CacheFill;
import dev.ferry.proxy.engine.http1.ChunkedProgress;
import dev.ferry.proxy.engine.http1.Framing;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.ProxyFailure;
import dev.ferry.proxy.engine.io.ConnectionInput;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * The body of an answer a {@link LoopExchange} relays, as it passes: how much is still to come
 * by its framing (a length, chunked, or until the upstream closes), its chunks followed and
 * checked ({@link ChunkedProgress}). For an HTTP/1.1 client, one that ends with its connection
 * has each read framed as a chunk here, and a chunked one passes as it came; for an HTTP/1.0
 * client, which cannot take chunks, a chunked one goes without its framing (and its trailer
 * fields), its end then the connection's. Its bytes are never buffered whole: each
 * {@link #relay} moves what the upstream has into the client's buffer, and its data to the
 * cache's copy where there is one ({@link #copyingTo}).
 */
final class LoopBody {
  private static final int CHUNK_SIZE_ROOM = 10;
  private static final byte[] LAST_CHUNK = "0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);

  private final ChunkedProgress chunks;
  private final boolean closeDelimited;
  private final boolean encodeChunks;
  private final boolean decodeChunks;
  private long remaining;
  private long bytes;
  private boolean excess;
  private CacheFill copy;

  /**
   * @param length the body's length by its framing ({@link Framing#CHUNKED},
   *     {@link Framing#UNTIL_CLOSE}, or a count of bytes)
   * @param clientChunked whether the client's head says chunked: a body that ends with its
   *     connection is then framed in chunks here; if not, a chunked one loses its framing here
   * @param maxHeaderBytes the limit on a chunked body's trailer section, as on a head
   * @param maxHeaderCount the limit on its trailer fields' count
   */
  LoopBody(long length, boolean clientChunked, int maxHeaderBytes, int maxHeaderCount) {
    chunks = length == Framing.CHUNKED
        ? new ChunkedProgress(Long.MAX_VALUE, maxHeaderBytes, maxHeaderCount) : null;
    closeDelimited = length == Framing.UNTIL_CLOSE;
    encodeChunks = closeDelimited && clientChunked;
    decodeChunks = chunks != null && !clientChunked;
    remaining = length < 0 ? Long.MAX_VALUE : length;
  }

  /**
   * Makes the body's data, as it passes (without a chunked body's framing), go to {@code copy}
   * too, the cache's copy of it, which is told when the body ended; null: no copy.
   */
  void copyingTo(CacheFill copy) {
    this.copy = copy;
  }

  /** Whether the body ends with the upstream's close (its connection then cannot be reused). */
  boolean closeDelimited() {
    return closeDelimited;
  }

  /** Whether all of it came. */
  boolean done() {
    return remaining == 0;
  }

  /**
   * Whether none of a body of known length has come yet: until its first byte the client is sent
   * nothing, so that an upstream that closes or stalls before it is still answered 502 or 504.
   */
  boolean awaitsFirstByte() {
    return remaining != 0 && bytes == 0 && chunks == null && !closeDelimited;
  }

  /** The body's bytes so far; of a chunked one its data, as the blocking path counts them. */
  long bytes() {
    return bytes;
  }

  /** Whether the upstream sent bytes past the body's end: they are never read as another answer's. */
  boolean excess() {
    return excess;
  }

  /**
   * Moves the body's next bytes into {@code out}: those {@code in} holds already first, then what
   * {@code channel} has. {@code scratch} is where a chunked body's bytes are copied to be followed.
   *
   * @throws HttpFailureException (502) for chunks framed wrong
   * @throws IOException if the upstream closed before the end of a body that does not end so
   */
  void relay(ConnectionInput in, SocketChannel channel, ByteBuffer out, byte[] scratch) throws IOException {
    int before = out.position();
    if (encodeChunks) {
      out.position(before + CHUNK_SIZE_ROOM);
    }
    int limit = out.limit();
    int room = out.remaining() - (encodeChunks ? 2 + LAST_CHUNK.length : 0);
    if (chunks != null) {
      room = Math.min(room, scratch.length);
    }
    out.limit(out.position() + (int) Math.min(room, remaining));
    int n;
    try {
      n = in.hasBuffered() ? in.takeBuffered(out, Long.MAX_VALUE) : channel.read(out);
    } finally {
      out.limit(limit);
    }
    if (encodeChunks) {
      if (copy != null && n > 0) {
        copy.take(out, before + CHUNK_SIZE_ROOM, n);
      }
      frameChunk(out, before, Math.max(n, 0), n < 0);
    }
    if (n < 0) {
      if (!closeDelimited) {
        throw new IOException("the upstream closed the connection before the end of its body");
      }
      remaining = 0;
    } else if (encodeChunks) {
      bytes += n;
    } else {
      counted(out, before, scratch);
    }
    if (remaining == 0 && in.hasBuffered()) {
      excess = true;
    }
    if (remaining == 0 && copy != null) {
      copy.ended();
    }
  }

  /**
   * Frames the {@code n} bytes read after the room left at {@code start} as one chunk (none if
   * 0), and the last chunk after it at the end of the answer.
   */
  private static void frameChunk(ByteBuffer out, int start, int n, boolean last) {
    int data = start + CHUNK_SIZE_ROOM;
    if (n == 0) {
      out.position(start);
    } else {
      byte[] size = (Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.ISO_8859_1);
      // The size line goes right before the data, and both move down to the chunk's start.
      int sizeStart = data - size.length;
      out.put(sizeStart, size);
      ByteBuffer chunk = out.duplicate().position(sizeStart).limit(data + n);
      out.position(start).put(chunk);
      out.put((byte) '\r').put((byte) '\n');
    }
    if (last) {
      out.put(LAST_CHUNK);
    }
  }

  /** Counts the body bytes just put in {@code out} from {@code before}, following chunks. */
  private void counted(ByteBuffer out, int before, byte[] scratch) throws HttpFailureException {
    int n = out.position() - before;
    if (chunks == null) {
      if (!closeDelimited) {
        remaining -= n;
      }
      bytes += n;
      if (copy != null) {
        copy.take(out, before, n);
      }
      return;
    }
    out.get(before, scratch, 0, n);
    // The copy takes the data alone: decoded here, while the client may be sent the chunks.
    boolean decode = decodeChunks || copy != null && copy.active();
    int used = decode ? chunks.decode(scratch, 0, n) : chunks.feed(scratch, 0, n);
    if (chunks.refusal() != null) {
      out.position(before);
      throw new HttpFailureException(ProxyFailure.UPSTREAM_BAD_RESPONSE,
          "malformed chunked response body: " + chunks.refusal().detail());
    }
    if (decode && copy != null) {
      copy.take(scratch, 0, chunks.decoded());
    }
    if (decodeChunks) {
      out.put(before, scratch, 0, chunks.decoded()).position(before + chunks.decoded());
    } else if (chunks.done()) {
      out.position(before + used);
    }
    if (chunks.done()) {
      remaining = 0;
      excess |= used < n;
    }
    bytes = chunks.dataBytes();
  }
}
