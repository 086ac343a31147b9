package dev.ferry.proxy.engine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * A whole body too large to copy behind its head (a cache hit), sent from its bytes in the same
 * gathering write as the head, as the client's socket takes it; a loop's exchange calls
 * {@link #write} again when it has room. A body stored in a file of shared memory goes from its
 * mapping too, not by {@code sendfile} as on the threads: on a loop, one write of head and body
 * ran ahead of the head's write and then {@code sendfile} in nine of eleven paired rounds of a
 * 100 KiB hit, 2–4 µs less CPU per hit (medians; {@code samples/bench/ab.sh}, Java 17 and 25),
 * and the client gets the head with the body's first bytes.
 */
final class LoopTail {
  private final ByteBuffer[] headAndBytes;

  /** @param bytes the body, from its position to its limit; a view of its own, not written to */
  LoopTail(ByteBuffer bytes) {
    this.headAndBytes = new ByteBuffer[] {null, bytes};
  }

  /** Writes what {@code head} holds, then the body; true once all of both went. */
  boolean write(SocketChannel channel, ByteBuffer head) throws IOException {
    headAndBytes[0] = head;
    channel.write(headAndBytes);
    return !head.hasRemaining() && !headAndBytes[1].hasRemaining();
  }
}
