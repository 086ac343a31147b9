package dev.ferry.samples;

import java.lang.reflect.Proxy;
import org.slf4j.LoggerFactory;

/**
 * POSIX signals, where the JVM offers them: {@code sun.misc.Signal} (module
 * {@code jdk.unsupported}), reached by reflection so that the CLI compiles and runs without it; on
 * Windows, with {@code -Xrs}, or on a runtime without that module, a handler is simply not
 * installed and the JVM's default stays.
 */
final class Signals {
  private Signals() {}

  /**
   * Runs {@code action} on each {@code signal} ({@code HUP}, {@code TERM}, {@code INT}) instead of
   * the JVM's default; returns false (logged at debug) if that is not possible.
   */
  static boolean on(String signal, Runnable action) {
    try {
      Class<?> signalClass = Class.forName("sun.misc.Signal");
      Class<?> handler = Class.forName("sun.misc.SignalHandler");
      Object which = signalClass.getConstructor(String.class).newInstance(signal);
      Object onSignal = Proxy.newProxyInstance(Signals.class.getClassLoader(), new Class<?>[] {handler},
          (self, method, args) -> switch (method.getName()) {
            case "handle" -> {
              action.run();
              yield null;
            }
            case "hashCode" -> System.identityHashCode(self);
            case "equals" -> self == args[0];
            default -> "Signals(" + signal + ")";
          });
      signalClass.getMethod("handle", signalClass, handler).invoke(null, which, onSignal);
      return true;
    } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
      // Looked up here, not held: handlers are installed before the CLI configures logging.
      LoggerFactory.getLogger(Signals.class).debug("signal_unavailable signal={} error=\"{}\"", signal, e.toString());
      return false;
    }
  }
}
