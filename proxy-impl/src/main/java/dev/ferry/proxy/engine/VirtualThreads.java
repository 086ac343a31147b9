package dev.ferry.proxy.engine;

import java.lang.reflect.Method;
import java.util.Optional;
import java.util.concurrent.ThreadFactory;

/**
 * Finds virtual threads at run time. The engine is compiled for Java 17, so the one call that
 * needs Java 21 ({@code Thread.ofVirtual().name(prefix, 0).factory()}) goes through reflection,
 * here and nowhere else.
 */
final class VirtualThreads {
  private VirtualThreads() {}

  /** Returns a factory of virtual threads named {@code prefix0, prefix1...}, on Java 21+. */
  static Optional<ThreadFactory> factory(String prefix) {
    if (Runtime.version().feature() < 21) {
      return Optional.empty();
    }
    try {
      Object builder = Thread.class.getMethod("ofVirtual").invoke(null);
      Class<?> ofVirtual = Class.forName("java.lang.Thread$Builder$OfVirtual");
      Method name = ofVirtual.getMethod("name", String.class, long.class);
      Object named = name.invoke(builder, prefix, 0L);
      return Optional.of((ThreadFactory) ofVirtual.getMethod("factory").invoke(named));
    } catch (ReflectiveOperationException e) {
      return Optional.empty();
    }
  }
}
