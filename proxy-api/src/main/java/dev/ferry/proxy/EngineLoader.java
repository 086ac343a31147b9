package dev.ferry.proxy;

import dev.ferry.proxy.spi.ProxyEngine;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
    static final List<ProxyEngine> FOUND = load(ProxyEngine.class.getClassLoader(),
        Thread.currentThread().getContextClassLoader());
    static final ProxyEngine ENGINE = FOUND.size() == 1 ? FOUND.get(0) : null;
    static final String PROBLEM = problem(FOUND);
  }

  /**
   * The engines visible to {@code own}, the loader of the API; when it sees none, those visible
   * to {@code context}, the thread's context loader. An application server or plugin host often
   * loads the API in a parent loader and the engine in a child only the context loader sees.
   * Each provider class is listed once.
   */
  static List<ProxyEngine> load(ClassLoader own, ClassLoader context) {
    Map<Class<?>, ProxyEngine> engines = new LinkedHashMap<>();
    addProviders(own, engines);
    if (engines.isEmpty() && context != null && context != own) {
      addProviders(context, engines);
    }
    return List.copyOf(engines.values());
  }

  private static void addProviders(ClassLoader loader, Map<Class<?>, ProxyEngine> engines) {
    for (ProxyEngine engine : ServiceLoader.load(ProxyEngine.class, loader)) {
      engines.putIfAbsent(engine.getClass(), engine);
    }
  }

  /** What is wrong with {@code found}, for the exception message; null if it holds exactly one. */
  static String problem(List<ProxyEngine> found) {
    if (found.size() == 1) {
      return null;
    }
    return found.isEmpty()
        ? "no Ferry engine on the classpath: add dev.ferry:proxy-impl (runtime scope is enough)"
        : "more than one Ferry engine on the classpath: " + names(found) + "; keep exactly one proxy-impl";
  }

  private static List<String> names(List<ProxyEngine> engines) {
    List<String> names = new ArrayList<>();
    engines.forEach(engine -> names.add(engine.getClass().getName()));
    return names;
  }
}
