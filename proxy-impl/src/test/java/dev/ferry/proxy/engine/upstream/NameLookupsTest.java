package dev.ferry.proxy.engine.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.ProxyFailure;
import java.net.InetAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The event loops' name lookups, with the system's resolver: on their own threads, and after a stop. */
class NameLookupsTest {
  private record Outcome(List<InetAddress> addresses, HttpFailureException failure, String thread) {}

  private static Outcome lookUp(NameLookups lookups, String host) throws Exception {
    CompletableFuture<Outcome> outcome = new CompletableFuture<>();
    lookups.lookUp(new UpstreamKey(host, 80, false), (addresses, failure) ->
        outcome.complete(new Outcome(addresses, failure, Thread.currentThread().getName())));
    return outcome.get(10, TimeUnit.SECONDS);
  }

  private static NameLookups lookups(List<Thread> started) {
    return new NameLookups(task -> {
      Thread thread = new Thread(task, "test-lookup-" + started.size());
      thread.setDaemon(true);
      started.add(thread);
      return thread;
    });
  }

  @Test
  void looksANameUpOnALookupThread() throws Exception {
    try (NameLookups lookups = lookups(new CopyOnWriteArrayList<>())) {
      Outcome found = lookUp(lookups, "localhost");
      assertThat(found.failure()).isNull();
      assertThat(found.addresses()).isNotEmpty().allMatch(InetAddress::isLoopbackAddress);
      assertThat(found.thread()).startsWith("test-lookup-");
    }
  }

  @Test
  void answersAnUnknownHostAs502() throws Exception {
    try (NameLookups lookups = lookups(new CopyOnWriteArrayList<>())) {
      Outcome unknown = lookUp(lookups, "no-such-host.invalid");
      assertThat(unknown.addresses()).isNull();
      assertThat(unknown.failure().failure()).isEqualTo(ProxyFailure.UPSTREAM_UNREACHABLE);
      assertThat(unknown.failure().getMessage()).contains("no-such-host.invalid (unknown host)");
    }
  }

  /** Once closed, a lookup is answered at once, on the caller's thread, and its threads are gone. */
  @Test
  void answersAtOnceOnceClosedAndLeavesNoThread() throws Exception {
    List<Thread> started = new CopyOnWriteArrayList<>();
    NameLookups lookups = lookups(started);
    lookUp(lookups, "localhost");
    lookups.close();
    Outcome stopped = lookUp(lookups, "localhost");
    assertThat(stopped.failure().failure()).isEqualTo(ProxyFailure.PROXY_STOPPED);
    assertThat(stopped.thread()).isEqualTo(Thread.currentThread().getName());
    assertThat(started).isNotEmpty();
    for (Thread thread : started) {
      // The pool is terminated once its workers left their loop; each thread ends just after.
      thread.join(TimeUnit.SECONDS.toMillis(10));
      assertThat(thread.isAlive()).as(thread.getName()).isFalse();
    }
  }
}
