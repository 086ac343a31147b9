package dev.ferry.proxy;

import dev.ferry.proxy.spi.ProxyEngine;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/** Finds the engine once, lazily, on first use (initialisation-on-demand holder). */
final class EngineLoader {
  private EngineLoader() {}

  static ProxyEngine engine() {
    return Holder.ENGINE;
  }

  private static final class Holder {
    static final ProxyEngine ENGINE = load();
  }

  private static ProxyEngine load() {
    List<ProxyEngine> engines = new ArrayList<>();
    ServiceLoader.load(ProxyEngine.class, ProxyEngine.class.getClassLoader()).forEach(engines::add);
    if (engines.isEmpty()) {
      throw new IllegalStateException(
          "no Ferry engine on the classpath: add dev.ferry:proxy-impl (runtime scope is enough)");
    }
    if (engines.size() > 1) {
      List<String> names = new ArrayList<>();
      engines.forEach(engine -> names.add(engine.getClass().getName()));
      throw new IllegalStateException(
          "more than one Ferry engine on the classpath: " + names + "; keep exactly one proxy-impl");
    }
    return engines.get(0);
  }
}
