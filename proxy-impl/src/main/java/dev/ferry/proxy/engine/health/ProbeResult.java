package dev.ferry.proxy.engine.health;

/**
 * The outcome of one health check: passed or not, and a snake_case detail for logs
 * ({@code status_200}, {@code status_503}, {@code timeout}, {@code connect_refused}, ...).
 */
record ProbeResult(boolean passed, String detail) {

  static ProbeResult failed(String detail) {
    return new ProbeResult(false, detail);
  }
}
