package dev.ferry.proxy.engine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SocketChannel;

/**
 * A whole body too large to copy behind its head (a cache hit): sent after the head's buffer,
 * from the file that holds it by the kernel ({@code sendfile}), as the blocking path sends a large
 * hit, or else from its bytes in the same gathering write as the head. Written as the client's
 * socket takes it; a loop's exchange calls {@link #write} again when it has room.
 */
final class LoopTail {
  private final ByteBuffer[] headAndBytes;
  private final FileChannel file;
  private final long length;
  private long sent;

  /**
   * @param bytes the body, from its position to its limit; not written to
   * @param file the open file holding exactly those bytes from position 0, or null
   */
  LoopTail(ByteBuffer bytes, FileChannel file) {
    this.headAndBytes = new ByteBuffer[] {null, bytes};
    this.file = file;
    this.length = bytes.remaining();
  }

  /** Writes what {@code head} holds, then the body; true once all of both went. */
  boolean write(SocketChannel channel, ByteBuffer head) throws IOException {
    if (file == null) {
      headAndBytes[0] = head;
      channel.write(headAndBytes);
      return !head.hasRemaining() && !headAndBytes[1].hasRemaining();
    }
    if (head.hasRemaining()) {
      channel.write(head);
      if (head.hasRemaining()) {
        return false;
      }
    }
    while (sent < length) {
      long n = file.transferTo(sent, length - sent, channel);
      if (n <= 0) {
        return false; // the socket is full (the file holds all of it: its length was checked)
      }
      sent += n;
    }
    return true;
  }
}
