package dev.ferry.proxy.engine.io;

import java.nio.channels.FileChannel;

/**
 * A body whose bytes are also the whole of a file (a large cache hit), which the response sender
 * sends to a plain socket from the file ({@link ConnectionOutput#transferAndFlush}), with no copy
 * through the JVM. The file's bytes never change.
 */
public interface FileRegionBody {
  /** The file holding exactly the body's bytes from position 0; null if they are not in one. */
  FileChannel file();
}
