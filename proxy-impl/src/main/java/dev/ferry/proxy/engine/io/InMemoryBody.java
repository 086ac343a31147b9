package dev.ferry.proxy.engine.io;

import java.nio.ByteBuffer;

/**
 * A body whose bytes are all in memory (a cache hit), which the response sender writes with its
 * head in one gathering write instead of copying it through the connection's buffer.
 */
public interface InMemoryBody {
  /** A fresh view of the bytes, from its position to its limit; never written to. */
  ByteBuffer bytes();
}
