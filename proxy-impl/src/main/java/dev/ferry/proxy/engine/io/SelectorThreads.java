package dev.ferry.proxy.engine.io;

import dev.ferry.proxy.engine.http1.LogValues;
import java.io.IOException;
import java.nio.channels.Selector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** For the engine's threads that each own a {@link Selector} (the idle parker, the tunnel relay). */
public final class SelectorThreads {
  private static final Logger log = LoggerFactory.getLogger(SelectorThreads.class);

  private SelectorThreads() {}

  /**
   * Wakes {@code owner} out of its select, waits up to five seconds for it to end (its loop must
   * already see that it is to stop), then closes the selector.
   */
  public static void stop(Selector selector, Thread owner) {
    selector.wakeup();
    try {
      owner.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      selector.close();
    } catch (IOException e) {
      log.debug("selector_close_failed thread={} error={}", owner.getName(), LogValues.quoted(e.toString()));
    }
  }
}
