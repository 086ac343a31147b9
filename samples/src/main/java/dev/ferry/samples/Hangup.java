package dev.ferry.samples;

import java.lang.reflect.Proxy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SIGHUP, where the JVM offers it: {@code sun.misc.Signal} (module {@code jdk.unsupported}),
 * reached by reflection so that the CLI compiles and runs without it; on Windows, with
 * {@code -Xrs}, or on a runtime without that module, the handler is simply not installed.
 */
final class Hangup {
  private static final Logger log = LoggerFactory.getLogger(Hangup.class);

  private Hangup() {}

  /** Runs {@code action} on each SIGHUP; returns false (logged at debug) if that is not possible. */
  static boolean onSignal(Runnable action) {
    try {
      Class<?> signal = Class.forName("sun.misc.Signal");
      Class<?> handler = Class.forName("sun.misc.SignalHandler");
      Object hup = signal.getConstructor(String.class).newInstance("HUP");
      Object onHup = Proxy.newProxyInstance(Hangup.class.getClassLoader(), new Class<?>[] {handler},
          (self, method, args) -> switch (method.getName()) {
            case "handle" -> {
              action.run();
              yield null;
            }
            case "hashCode" -> System.identityHashCode(self);
            case "equals" -> self == args[0];
            default -> "Hangup(reload)";
          });
      signal.getMethod("handle", signal, handler).invoke(null, hup, onHup);
      return true;
    } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
      log.debug("sighup_unavailable error=\"{}\"", e.toString());
      return false;
    }
  }
}
