package dev.ferry.proxy.engine.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The upstream pool's idle store under concurrent use, over real connections to a local server:
 * every connection taken is given back, reused or closed, whatever the sweep, a reload's retire
 * and the pool's close do meanwhile, and none is left open or handed to two requests.
 */
class UpstreamPoolConcurrencyTest {
  private static final DestinationCheck ANYWHERE = (host, port, addresses, tunnel) -> { };
  private static final int THREADS = 4;
  private static final int ROUNDS = 1500;

  private final ConcurrentLinkedQueue<Socket> accepted = new ConcurrentLinkedQueue<>();
  private ServerSocket server;
  private Thread acceptor;
  private UpstreamKey key;
  private ExecutorService threads;

  @BeforeEach
  void startServer() throws IOException {
    server = new ServerSocket(0, 256, InetAddress.getLoopbackAddress());
    key = new UpstreamKey("127.0.0.1", server.getLocalPort(), false);
    acceptor = new Thread(() -> {
      try {
        while (true) {
          accepted.add(server.accept());
        }
      } catch (IOException closed) {
        // the test is over
      }
    }, "pool-test-acceptor");
    acceptor.start();
    threads = Executors.newFixedThreadPool(THREADS + 1);
  }

  @AfterEach
  void stopServer() throws Exception {
    threads.shutdownNow();
    assertThat(threads.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    server.close();
    acceptor.join(10_000);
    assertThat(acceptor.isAlive()).isFalse();
    for (Socket socket : accepted) {
      socket.close();
    }
  }

  @Test
  void reusesOrClosesEveryConnectionWhileTheSweepAndRetiresRun() throws Exception {
    UpstreamPool pool = pool(Duration.ofSeconds(30));
    exercise(pool);

    assertThat(pool.opened()).as("connections opened for %d requests", THREADS * ROUNDS)
        .isLessThan(THREADS * ROUNDS / 10);
    closeLeavingNothingOpen(pool);
  }

  @Test
  void closesEveryConnectionWhenTheyExpireAsFastAsTheyAreGivenBack() throws Exception {
    // Every sweep finds the key's connections expired, or none, and drops its queue while
    // releases add to it.
    UpstreamPool pool = pool(Duration.ofNanos(1));
    exercise(pool);
    closeLeavingNothingOpen(pool);
  }

  @Test
  void closesAConnectionThatComesBackAfterItsEndpointWasRetired() throws Exception {
    UpstreamPool pool = pool(Duration.ofSeconds(30));
    UpstreamConnection busy = pool.acquire(key, ANYWHERE, false);
    UpstreamConnection idle = pool.acquire(key, ANYWHERE, false);
    pool.release(idle);

    pool.retire(Set.of(key), Set.of());
    assertThat(idle.socket().isClosed()).as("idle at the retire").isTrue();
    pool.release(busy);
    assertThat(busy.socket().isClosed()).as("busy at the retire, then given back").isTrue();
    assertThat(pool.idleCount()).isZero();

    pool.retire(Set.of(), Set.of(key));
    UpstreamConnection after = pool.acquire(key, ANYWHERE, false);
    pool.release(after);
    assertThat(pool.idleCount()).as("pooled again once a reload brings the endpoint back").isOne();
    assertThat(pool.acquire(key, ANYWHERE, false)).isSameAs(after);
    pool.close();
    assertThat(after.socket().isClosed()).as("taken before the close, a request's to close").isFalse();
    pool.release(after);
    assertThat(pool.openCount()).isZero();
  }

  @Test
  void givesTheMostRecentlyReturnedConnectionFirst() throws Exception {
    UpstreamPool pool = pool(Duration.ofSeconds(30));
    UpstreamConnection first = pool.acquire(key, ANYWHERE, false);
    UpstreamConnection second = pool.acquire(key, ANYWHERE, false);
    pool.release(first);
    pool.release(second);

    assertThat(pool.acquire(key, ANYWHERE, false)).isSameAs(second);
    assertThat(pool.acquire(key, ANYWHERE, false)).isSameAs(first);
    first.close();
    second.close();
    pool.close();
    assertThat(pool.openCount()).isZero();
  }

  private static void closeLeavingNothingOpen(UpstreamPool pool) {
    pool.close();
    assertThat(pool.idleCount()).isZero();
    assertThat(pool.openCount()).isZero();
  }

  private UpstreamPool pool(Duration keepAlive) {
    return new UpstreamPool(2, keepAlive, new Connector(Duration.ofSeconds(5), null, null));
  }

  /**
   * {@link #THREADS} threads take a connection, check that no other thread holds it, and give it
   * back, {@link #ROUNDS} times each, while one more thread sweeps and retires another key.
   */
  private void exercise(UpstreamPool pool) throws Exception {
    Set<UpstreamConnection> held = ConcurrentHashMap.newKeySet();
    UpstreamKey other = new UpstreamKey("127.0.0.2", server.getLocalPort(), false);
    AtomicBoolean done = new AtomicBoolean();
    CountDownLatch start = new CountDownLatch(1);
    Future<?> sweeper = threads.submit(() -> {
      start.await();
      while (!done.get()) {
        pool.evictExpired();
        pool.retire(Set.of(other), Set.of(key));
      }
      return null;
    });
    List<Future<?>> users = new ArrayList<>();
    for (int t = 0; t < THREADS; t++) {
      users.add(threads.submit(() -> {
        start.await();
        for (int i = 0; i < ROUNDS; i++) {
          UpstreamConnection connection = pool.acquire(key, ANYWHERE, false);
          assertThat(held.add(connection)).as("a connection handed to two requests").isTrue();
          assertThat(connection.socket().isClosed()).as("a closed connection handed out").isFalse();
          held.remove(connection);
          pool.release(connection);
        }
        return null;
      }));
    }
    start.countDown();
    for (Future<?> user : users) {
      user.get(60, TimeUnit.SECONDS);
    }
    done.set(true);
    sweeper.get(10, TimeUnit.SECONDS);
  }
}
