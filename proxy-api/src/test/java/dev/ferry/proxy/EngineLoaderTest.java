package dev.ferry.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.spi.ProxyEngine;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Finding the engine through the API's own loader, then the thread's context loader. */
class EngineLoaderTest {
  private final ClassLoader own = EngineLoaderTest.class.getClassLoader();

  @Test
  void fallsBackToTheContextClassLoader(@TempDir Path dir) throws Exception {
    try (URLClassLoader context = loaderProviding(dir, own, FakeEngine.class)) {
      assertThat(EngineLoader.load(own, own)).isEmpty();
      List<ProxyEngine> found = EngineLoader.load(own, context);
      assertThat(found).singleElement().isInstanceOf(FakeEngine.class);
      assertThat(EngineLoader.problem(found)).isNull();
    }
  }

  @Test
  void listsAnEngineSeenByBothLoadersOnce(@TempDir Path dir) throws Exception {
    try (URLClassLoader api = loaderProviding(dir, own, FakeEngine.class);
        URLClassLoader context = new URLClassLoader(new URL[] {dir.toUri().toURL()}, api)) {
      assertThat(EngineLoader.load(api, context)).singleElement().isInstanceOf(FakeEngine.class);
    }
  }

  @Test
  void namesEveryEngineWhenThereAreSeveral(@TempDir Path dir) throws Exception {
    try (URLClassLoader context = loaderProviding(dir, own, FakeEngine.class, OtherEngine.class)) {
      List<ProxyEngine> found = EngineLoader.load(own, context);
      assertThat(found).hasSize(2);
      assertThat(EngineLoader.problem(found)).isEqualTo("more than one Ferry engine on the classpath: ["
          + FakeEngine.class.getName() + ", " + OtherEngine.class.getName() + "]; keep exactly one proxy-impl");
    }
  }

  @Test
  void explainsMissingEngineWithoutAContextLoader() {
    List<ProxyEngine> found = EngineLoader.load(own, null);
    assertThat(found).isEmpty();
    assertThat(EngineLoader.problem(found))
        .isEqualTo("no Ferry engine on the classpath: add dev.ferry:proxy-impl (runtime scope is enough)");
  }

  private static URLClassLoader loaderProviding(Path dir, ClassLoader parent, Class<?>... engines)
      throws Exception {
    Path services = dir.resolve("META-INF/services");
    Files.createDirectories(services);
    StringBuilder lines = new StringBuilder();
    for (Class<?> engine : engines) {
      lines.append(engine.getName()).append('\n');
    }
    Files.writeString(services.resolve(ProxyEngine.class.getName()), lines, StandardCharsets.UTF_8);
    return new URLClassLoader(new URL[] {dir.toUri().toURL()}, parent);
  }

  /** An engine that is never asked to create anything. */
  public static final class FakeEngine implements ProxyEngine {
    @Override
    public ProxyServer create(ProxyConfig config) {
      throw new UnsupportedOperationException();
    }
  }

  /** A second engine, as when two proxy-impl versions end up on one classpath. */
  public static final class OtherEngine implements ProxyEngine {
    @Override
    public ProxyServer create(ProxyConfig config) {
      throw new UnsupportedOperationException();
    }
  }
}
