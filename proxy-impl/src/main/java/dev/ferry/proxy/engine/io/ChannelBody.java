package dev.ferry.proxy.engine.io;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A body that can be read straight into a direct buffer, for relaying between plain sockets
 * without copies through the Java heap (see {@link DirectBuffers}).
 */
public interface ChannelBody {
  /**
   * Claims the body for {@link #read(ByteBuffer)} if it can be read that way (a fixed length on
   * a plain socket, not yet opened as a stream); after true, its stream can no longer be opened.
   */
  boolean claimForChannel();

  /**
   * Reads the next bytes into {@code target}; -1 after the last. A failure discards the body
   * (its connection is closed).
   */
  int read(ByteBuffer target) throws IOException;
}
