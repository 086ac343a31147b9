package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The engine and the testkit call SLF4J's 1.7 API only. A project whose dependencies put
 * slf4j-api 1.7 first (Apache HttpClient 5 does) runs them with it, and a method of SLF4J 2's
 * API then fails with NoSuchMethodError: twice it did, at start ({@code atLevel}) and at the end
 * of every exchange ({@code isEnabledForLevel}, leaving a testkit recording empty). The build
 * has SLF4J 2 alone on its classpath, so only a look at the sources can tell.
 */
class Slf4jApiTest {
  private static final List<String> SLF4J_2_ONLY = List.of("isEnabledForLevel(", ".atLevel(",
      ".atTrace(", ".atDebug(", ".atInfo(", ".atWarn(", ".atError(", "makeLoggingEventBuilder(",
      "LoggingEventBuilder");

  @Test
  void engineAndTestkitUseTheSlf4j17ApiOnly() throws IOException {
    for (Path sources : List.of(Path.of("src/main/java"), Path.of("../proxy-testkit/src/main/java"))) {
      try (Stream<Path> files = Files.walk(sources)) {
        files.filter(file -> file.toString().endsWith(".java")).forEach(file -> {
          String text = read(file);
          for (String call : SLF4J_2_ONLY) {
            assertThat(text).as("%s uses SLF4J 2's %s", file, call).doesNotContain(call);
          }
        });
      }
    }
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
