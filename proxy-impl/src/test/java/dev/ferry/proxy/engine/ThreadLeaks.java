package dev.ferry.proxy.engine;

import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

/** Checks that a stopped proxy left no thread of its own behind. */
final class ThreadLeaks {
  private ThreadLeaks() {}

  /** Fails unless no thread whose name contains {@code ferry-} and {@code port} is alive. */
  static void assertNoThreadsFor(int port) {
    Await.until(() -> threadsFor(port).isEmpty(), Duration.ofSeconds(10),
        () -> "threads of proxy on port " + port + " to end: " + threadsFor(port));
  }

  static List<String> threadsFor(int port) {
    String marker = "-" + port + "-";
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .map(Thread::getName)
        .filter(name -> name.startsWith("ferry-") && (name.contains(marker) || name.endsWith("-" + port)))
        .collect(Collectors.toList());
  }
}
