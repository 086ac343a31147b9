package dev.ferry.proxy;

import dev.ferry.proxy.spi.ProxyEngine;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/** Finds the engine once, lazily, on first use (initialisation-on-demand holder). */
final class EngineLoader {
  private EngineLoader() {}

  /**
   * Returns the engine, or throws {@link IllegalStateException} naming the fix. The lookup runs
   * once; its failure is kept too, since throwing from a class initialiser would surface as an
   * {@code ExceptionInInitializerError} and then as {@code NoClassDefFoundError}.
   */
  static ProxyEngine engine() {
    if (Holder.ENGINE == null) {
      throw new IllegalStateException(Holder.PROBLEM);
    }
    return Holder.ENGINE;
  }

  private static final class Holder {
    static final List<ProxyEngine> FOUND = load();
    static final ProxyEngine ENGINE = FOUND.size() == 1 ? FOUND.get(0) : null;
    static final String PROBLEM = FOUND.isEmpty()
        ? "no Ferry engine on the classpath: add dev.ferry:proxy-impl (runtime scope is enough)"
        : "more than one Ferry engine on the classpath: " + names(FOUND)
            + "; keep exactly one proxy-impl";
  }

  private static List<ProxyEngine> load() {
    List<ProxyEngine> engines = new ArrayList<>();
    ServiceLoader.load(ProxyEngine.class, ProxyEngine.class.getClassLoader()).forEach(engines::add);
    return engines;
  }

  private static List<String> names(List<ProxyEngine> engines) {
    List<String> names = new ArrayList<>();
    engines.forEach(engine -> names.add(engine.getClass().getName()));
    return names;
  }
}
