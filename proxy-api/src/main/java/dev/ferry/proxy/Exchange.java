package dev.ferry.proxy;

import java.net.InetSocketAddress;
import java.time.Instant;

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
}
