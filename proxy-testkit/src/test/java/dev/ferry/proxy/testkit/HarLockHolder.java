package dev.ferry.proxy.testkit;

import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Run in a child JVM, stands in for another surefire fork saving into a HAR: holds the lock on
 * the file given, says "locked", and lets go when its standard input closes.
 */
public final class HarLockHolder {
  private HarLockHolder() {
  }

  public static void main(String[] args) throws Exception {
    try (FileChannel channel = FileChannel.open(Path.of(args[0]), StandardOpenOption.CREATE,
        StandardOpenOption.WRITE); FileLock lock = channel.lock()) {
      System.out.println("locked");
      System.out.flush();
      while (System.in.read() != -1) {
        // Drain until the parent closes the pipe.
      }
    }
  }
}
