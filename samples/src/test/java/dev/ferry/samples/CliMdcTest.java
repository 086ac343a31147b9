package dev.ferry.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The CLI's MDC: per thread, and not handed to the threads a thread starts. */
class CliMdcTest {
  private final CliMdc mdc = new CliMdc();

  @Test
  void keepsAValuePerThreadUntilRemoved() throws Exception {
    mdc.put("ferry.conn", "ferry-conn-8080-1");
    AtomicReference<String> seen = new AtomicReference<>("unset");
    Thread other = new Thread(() -> seen.set(mdc.get("ferry.conn")));
    other.start();
    other.join(10_000);

    assertThat(seen.get()).as("a thread started meanwhile (a pool's, a cache refresh's)").isNull();
    assertThat(mdc.get("ferry.conn")).isEqualTo("ferry-conn-8080-1");
    assertThat(mdc.getCopyOfContextMap()).isEqualTo(Map.of("ferry.conn", "ferry-conn-8080-1"));
    mdc.remove("ferry.conn");
    assertThat(mdc.get("ferry.conn")).isNull();
  }

  @Test
  void copiesAndRestoresTheConnectionWithTheOtherKeys() {
    mdc.put("ferry.conn", "ferry-conn-8080-2");
    mdc.put("user", "u1");
    Map<String, String> copy = mdc.getCopyOfContextMap();
    assertThat(copy).isEqualTo(Map.of("ferry.conn", "ferry-conn-8080-2", "user", "u1"));

    mdc.clear();
    assertThat(mdc.get("ferry.conn")).isNull();
    assertThat(mdc.get("user")).isNull();
    assertThat(mdc.getCopyOfContextMap()).isEmpty();
    mdc.setContextMap(copy);
    assertThat(mdc.get("ferry.conn")).isEqualTo("ferry-conn-8080-2");
    assertThat(mdc.get("user")).isEqualTo("u1");
    mdc.setContextMap(Map.of("user", "u2"));
    assertThat(mdc.get("ferry.conn")).isNull();
    assertThat(mdc.getCopyOfContextMap()).isEqualTo(Map.of("user", "u2"));
  }

  @Test
  void stacksValuesByKey() {
    mdc.pushByKey("k", "a");
    mdc.pushByKey("k", "b");
    assertThat(mdc.getCopyOfDequeByKey("k")).containsExactly("b", "a");
    assertThat(mdc.popByKey("k")).isEqualTo("b");
    mdc.clearDequeByKey("k");
    assertThat(mdc.popByKey("k")).isNull();
    assertThat(mdc.popByKey("none")).isNull();
  }
}
