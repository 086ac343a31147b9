package dev.ferry.proxy.engine.admin;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The live dashboard: one self-contained HTML page (no external script, font or stylesheet) that
 * polls {@code _stats} every second, relative to its own URL, so it works on the admin listener
 * and on the proxy port alike.
 */
final class Dashboard {
  private static final String PAGE = load();

  private Dashboard() {}

  static String page() {
    return PAGE;
  }

  private static String load() {
    try (InputStream in = Dashboard.class.getResourceAsStream("dashboard.html")) {
      if (in == null) {
        throw new IllegalStateException("dashboard.html missing from the engine jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
