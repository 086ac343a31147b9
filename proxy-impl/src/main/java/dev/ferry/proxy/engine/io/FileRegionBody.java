package dev.ferry.proxy.engine.io;

import java.nio.channels.FileChannel;

/**
 * A body whose bytes are also a region of a file (a large cache hit), which the response sender
 * sends to a plain socket from the file ({@link ConnectionOutput#transferAndFlush}), with no copy
 * through the JVM. The region's bytes do not change while the body is reachable.
 */
public interface FileRegionBody {
  /** The file holding the bytes; null if they are not in one (the body is written as usual). */
  FileChannel file();

  /** Where in {@link #file()} the bytes begin; they are the body's whole content length. */
  long offset();
}
