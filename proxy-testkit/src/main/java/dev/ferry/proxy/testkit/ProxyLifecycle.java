package dev.ferry.proxy.testkit;

/** When {@link FerryProxyExtension} starts and stops its proxy. */
public enum ProxyLifecycle {
  /**
   * One proxy for the whole test class, started before its first test and stopped after its
   * last; the recording and injected faults are cleared after each test. Tests of the class that
   * run concurrently would share one recording: use {@link #PER_TEST} for them.
   */
  PER_CLASS,

  /** A new proxy, on a new port, for each test: isolated even when tests run concurrently. */
  PER_TEST
}
