package dev.ferry.proxy;

import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.Optional;

/**
 * One request-response exchange as a filter sees it: the request, plus where and when it came
 * from.
 */
public interface Exchange {

  /** A number unique to this exchange within its proxy, counting from 1. */
  long id();

  /** A number unique to the client connection that carried it, counting from 1. */
  long connectionId();

  /** The exchange's position on its connection: 1 for the first request, then 2, and so on. */
  int sequence();

  /** The client's address. */
  InetSocketAddress clientAddress();

  /** The proxy's address the client connected to. */
  InetSocketAddress localAddress();

  /** When the request head was read. */
  Instant startTime();

  /** The request as it reached the current filter. */
  Request request();

  /**
   * The route the request matched, once routing has happened (a reverse proxy's route filters
   * and listeners see it; proxy-wide filters see it only after {@code proceed()} returns).
   */
  Optional<Route> route();

  /** The upstream endpoint chosen for the current attempt, as {@code host:port}, once chosen. */
  Optional<String> endpoint();

  /** Whether the proxy serving this exchange is a forward or a reverse proxy. */
  Mode mode();

  /**
   * Returns the attribute stored under {@code key}, if a filter stored one for this exchange.
   * Attributes are per exchange and shared by every filter of its chain.
   */
  <T> Optional<T> attribute(Class<T> key);

  /**
   * Stores {@code value} under {@code key} for the rest of this exchange, replacing any earlier
   * value. Keying by a type that a filter owns (often a private record) keeps filters from
   * reading each other's state by accident:
   *
   * <pre>{@code
   * record StartedAt(long nanos) {}
   * exchange.attribute(StartedAt.class, new StartedAt(System.nanoTime()));
   * long started = exchange.attribute(StartedAt.class).orElseThrow().nanos();
   * }</pre>
   */
  <T> void attribute(Class<T> key, T value);

  /** The two kinds of proxy. */
  enum Mode {
    /** Clients name the target in each request (absolute-form or CONNECT). */
    FORWARD,
    /** Requests go to configured upstreams; clients see the proxy as the origin. */
    REVERSE
  }
}
