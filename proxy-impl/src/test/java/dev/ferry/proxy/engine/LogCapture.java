package dev.ferry.proxy.engine;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Reads what the tests' slf4j binding wrote to this JVM's log file ({@code target/test-N.log}, N
 * the surefire fork's number, set in the pom's surefire configuration) since this capture was
 * opened.
 */
public final class LogCapture implements AutoCloseable {
  private final Path file = Path.of(System.getProperty("org.slf4j.simpleLogger.logFile", "target/test.log"));
  private final long start;

  public LogCapture() {
    this.start = size();
  }

  /** The lines written since the capture opened that contain {@code marker}. */
  public List<String> lines(String marker) {
    try {
      byte[] all = Files.exists(file) ? Files.readAllBytes(file) : new byte[0];
      String text = new String(all, (int) Math.min(start, all.length), (int) Math.max(0, all.length - start),
          StandardCharsets.UTF_8);
      return Arrays.stream(text.split("\n")).filter(line -> !line.isEmpty() && line.contains(marker))
          .collect(Collectors.toList());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private long size() {
    try {
      return Files.exists(file) ? Files.size(file) : 0;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {}
}
