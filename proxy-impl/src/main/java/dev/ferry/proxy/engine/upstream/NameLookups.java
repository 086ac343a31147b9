package dev.ferry.proxy.engine.upstream;

import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.ProxyFailure;
import java.net.InetAddress;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Looks up upstream host names for the event loops, on threads of its own: a lookup blocks (for
 * seconds when the resolver does not answer), and a loop that waited for one would serve none of
 * its connections meanwhile. The lookup is {@link Connector}'s, so the loops reach a name as the
 * threads do. The JDK caches what it looked up ({@code networkaddress.cache.ttl}, 30 s by default)
 * and lets concurrent lookups of one name wait for the first, so a few threads suffice; they are
 * started on demand and end after a while without work.
 */
public final class NameLookups implements AutoCloseable {
  /** Lookups under way at once: more names than this that the resolver is slow on wait in line. */
  private static final int THREADS = 4;
  private static final long IDLE_SECONDS = 30;

  private final ThreadPoolExecutor threads;

  /** The answer to one lookup: its addresses, or (with {@code addresses} null) why there are none. */
  @FunctionalInterface
  public interface Answer {
    /** Called once, on a lookup thread, or on the caller's if the lookup could not start. */
    void lookedUp(List<InetAddress> addresses, HttpFailureException failure);
  }

  /** @param factory makes the lookup threads (daemons, named for the proxy) */
  public NameLookups(ThreadFactory factory) {
    this.threads = new ThreadPoolExecutor(THREADS, THREADS, IDLE_SECONDS, TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(), factory);
    threads.allowCoreThreadTimeOut(true);
  }

  /** Looks up {@code key}'s host and gives {@code answer} the outcome: 502 for an unknown host. */
  public void lookUp(UpstreamKey key, Answer answer) {
    try {
      threads.execute(() -> {
        List<InetAddress> addresses;
        try {
          addresses = Connector.resolve(key);
        } catch (HttpFailureException e) {
          answer.lookedUp(null, e);
          return;
        }
        answer.lookedUp(addresses, null);
      });
    } catch (RejectedExecutionException stopped) {
      answer.lookedUp(null, new HttpFailureException(ProxyFailure.PROXY_STOPPED,
          "the proxy stopped before " + key.host() + " was looked up"));
    }
  }

  /** Stops the threads, waiting up to a second for a lookup under way (it cannot be interrupted). */
  @Override
  public void close() {
    threads.shutdownNow();
    try {
      threads.awaitTermination(1, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
