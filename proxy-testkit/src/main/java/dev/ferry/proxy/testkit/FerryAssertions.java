package dev.ferry.proxy.testkit;

/**
 * Entry point for AssertJ assertions on recorded traffic.
 *
 * <pre>{@code
 * import static dev.ferry.proxy.testkit.FerryAssertions.assertThat;
 *
 * assertThat(proxy.recording())
 *     .hasExchangeCount(2)
 *     .hasExchange(e -> e.method("POST").path("/orders"))
 *     .hasNoExchangeTo("tracking.example");
 * assertThat(proxy.recording()).exchange(e -> e.path("/orders"))
 *     .hasStatus(201)
 *     .hasResponseHeader("Content-Type", "application/json")
 *     .hasResponseJsonField("order.id", 42);
 * }</pre>
 *
 * <p>A failure names what was expected and lists every exchange that was recorded.
 */
public final class FerryAssertions {
  private FerryAssertions() {}

  /** Starts assertions on a recording. */
  public static RecordingAssert assertThat(Recording recording) {
    return new RecordingAssert(recording);
  }

  /** Starts assertions on one recorded exchange. */
  public static ExchangeAssert assertThat(RecordedExchange exchange) {
    return new ExchangeAssert(exchange);
  }
}
