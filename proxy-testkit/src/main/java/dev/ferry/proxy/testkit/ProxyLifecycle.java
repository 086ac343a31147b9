package dev.ferry.proxy.testkit;

/**
 * When {@link FerryProxyExtension} starts and stops its proxy. Whatever the lifecycle, the
 * recording a test receives (as a parameter, or from the extension's shortcut methods) holds only
 * the exchanges that started while that test ran, and the faults a test injects are removed
 * after it.
 */
public enum ProxyLifecycle {
  /**
   * The default for an extension on a static field: one proxy for the test class while its tests
   * run one at a time, and a proxy of its own for each test that runs concurrently (JUnit's
   * {@code @Execution(CONCURRENT)} or {@code junit.jupiter.execution.parallel.mode.default =
   * concurrent}), so concurrent tests never see each other's traffic. A new proxy starts in a few
   * milliseconds.
   *
   * <p>Once the class's proxy has been injected outside a test (a {@code RecordingProxy} or
   * {@code Recording} parameter of a {@code @BeforeAll} method or of the constructor), clients
   * may be wired to its port for the whole class: concurrent tests then share it as with
   * {@link #PER_CLASS} (warning once), so their traffic is recorded and not sent to a proxy no
   * test sees. For a proxy per concurrent test, wire clients in the test or in
   * {@code @BeforeEach} from the {@code RecordingProxy} it receives.
   */
  AUTO,

  /**
   * One proxy for the whole test class, started before its first test and stopped after its
   * last, also for tests that run concurrently: choose it when the code under test is wired to
   * the proxy's port once per class. Tests that overlap in time then each see the exchanges that
   * started while they ran, including the other tests' (the testkit warns once). Sequential
   * tests are isolated.
   */
  PER_CLASS,

  /** A new proxy, on a new port, for each test: isolated even when tests run concurrently. */
  PER_TEST
}
