package dev.ferry.proxy.engine.upstream;

import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.ProxyFailure;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Looks up upstream host names for the event loops, on threads of its own: a lookup blocks (for
 * seconds when the resolver does not answer), and a loop that waited for one would serve none of
 * its connections meanwhile. The lookup is {@link Connector}'s, so the loops reach a name as the
 * threads do. The JDK caches what it looked up ({@code networkaddress.cache.ttl}, 30 s by
 * default). A name is looked up once however many exchanges ask for it meanwhile: they all get
 * that lookup's answer, so a name the resolver is slow on holds one thread, not one per request
 * (a forward proxy's clients may all ask for the same slow name). Up to {@value #THREADS} names
 * are looked up at once; the threads are started on demand and end after a while without work.
 */
public final class NameLookups implements AutoCloseable {
  /**
   * Names looked up at once: more names than this that the resolver is slow on make the others
   * wait in line, cached names too (on the threads, each request looks its name up itself).
   */
  static final int THREADS = 32;
  private static final long IDLE_SECONDS = 30;

  private final ThreadPoolExecutor threads;
  private final Resolver resolver;
  /** The names being looked up, each with the answers that wait for it. */
  private final Map<String, List<Answer>> pending = new HashMap<>();

  /** The answer to one lookup: its addresses, or (with {@code addresses} null) why there are none. */
  @FunctionalInterface
  public interface Answer {
    /** Called once, on a lookup thread, or on the caller's if the lookup could not start. */
    void lookedUp(List<InetAddress> addresses, HttpFailureException failure);
  }

  /** What looks a name up: {@link Connector#resolve} but in tests. */
  @FunctionalInterface
  interface Resolver {
    List<InetAddress> resolve(UpstreamKey key) throws HttpFailureException;
  }

  /** @param factory makes the lookup threads (daemons, named for the proxy) */
  public NameLookups(ThreadFactory factory) {
    this(factory, Connector::resolve);
  }

  NameLookups(ThreadFactory factory, Resolver resolver) {
    this.threads = new ThreadPoolExecutor(THREADS, THREADS, IDLE_SECONDS, TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(), factory);
    threads.allowCoreThreadTimeOut(true);
    this.resolver = resolver;
  }

  /**
   * Looks up {@code key}'s host, or joins the lookup of it under way, and gives {@code answer}
   * the outcome: 502 for an unknown host.
   */
  public void lookUp(UpstreamKey key, Answer answer) {
    String host = key.host();
    synchronized (pending) {
      List<Answer> waiting = pending.get(host);
      if (waiting != null) {
        waiting.add(answer);
        return;
      }
      waiting = new ArrayList<>(2);
      waiting.add(answer);
      pending.put(host, waiting);
    }
    try {
      threads.execute(() -> {
        try {
          answerAll(host, resolver.resolve(key), null);
        } catch (HttpFailureException e) {
          answerAll(host, null, e);
        }
      });
    } catch (RejectedExecutionException stopped) {
      answerAll(host, null, new HttpFailureException(ProxyFailure.PROXY_STOPPED,
          "the proxy stopped before " + host + " was looked up"));
    }
  }

  /** Gives the outcome to those waiting for {@code host}; none once {@link #close} answered them. */
  private void answerAll(String host, List<InetAddress> addresses, HttpFailureException failure) {
    List<Answer> waiting;
    synchronized (pending) {
      waiting = pending.remove(host);
    }
    for (Answer answer : waiting == null ? List.<Answer>of() : waiting) {
      answer.lookedUp(addresses, failure);
    }
  }

  /**
   * Stops the threads, answering every lookup not done as stopped (those that waited in line are
   * never made), and waits up to a second for a lookup under way (it cannot be interrupted).
   */
  @Override
  public void close() {
    threads.shutdownNow();
    List<String> hosts;
    synchronized (pending) {
      hosts = List.copyOf(pending.keySet());
    }
    for (String host : hosts) {
      answerAll(host, null, new HttpFailureException(ProxyFailure.PROXY_STOPPED,
          "the proxy stopped before " + host + " was looked up"));
    }
    try {
      threads.awaitTermination(1, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
