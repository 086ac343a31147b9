package dev.ferry.proxy.testkit;

import dev.ferry.proxy.ProxyServer;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * Asks the proxy to log its start line and per-exchange lines at debug, as tests want: a line per
 * exchange is noise in a test run. Uses {@code ProxyServer.Builder#quietLogs(boolean)} when
 * proxy-api offers it (looked up once, reflectively, so this compiles against an API without it);
 * without it, this does nothing.
 */
final class QuietLogs {
  private static final MethodHandle QUIET_LOGS = lookup();

  private QuietLogs() {}

  static void apply(ProxyServer.Builder builder) {
    if (QUIET_LOGS != null) {
      try {
        QUIET_LOGS.invoke(builder, true);
      } catch (Throwable e) {
        // Logging is cosmetic: a proxy that logs at info still records correctly.
      }
    }
  }

  /** True when the running proxy-api can lower the proxy's log lines. */
  static boolean supported() {
    return QUIET_LOGS != null;
  }

  private static MethodHandle lookup() {
    try {
      return MethodHandles.publicLookup().findVirtual(ProxyServer.Builder.class, "quietLogs",
          MethodType.methodType(ProxyServer.Builder.class, boolean.class));
    } catch (NoSuchMethodException | IllegalAccessException e) {
      return null;
    }
  }
}
