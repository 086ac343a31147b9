package dev.ferry.proxy.engine.filter;

import dev.ferry.proxy.Exchange;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.Route;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.Optional;

/** The exchange as one filter sees it: shared context, with the request that filter received. */
final class ExchangeView implements Exchange {
  private final Exchange exchange;
  private final Request request;

  ExchangeView(Exchange exchange, Request request) {
    this.exchange = exchange;
    this.request = request;
  }

  @Override
  public long id() {
    return exchange.id();
  }

  @Override
  public long connectionId() {
    return exchange.connectionId();
  }

  @Override
  public int sequence() {
    return exchange.sequence();
  }

  @Override
  public InetSocketAddress clientAddress() {
    return exchange.clientAddress();
  }

  @Override
  public InetSocketAddress localAddress() {
    return exchange.localAddress();
  }

  @Override
  public Instant startTime() {
    return exchange.startTime();
  }

  @Override
  public Request request() {
    return request;
  }

  @Override
  public Optional<Route> route() {
    return exchange.route();
  }

  @Override
  public Optional<String> endpoint() {
    return exchange.endpoint();
  }

  @Override
  public Mode mode() {
    return exchange.mode();
  }

  @Override
  public <T> Optional<T> attribute(Class<T> key) {
    return exchange.attribute(key);
  }

  @Override
  public <T> void attribute(Class<T> key, T value) {
    exchange.attribute(key, value);
  }

  @Override
  public String toString() {
    return "Exchange{id=" + id() + ", conn=" + connectionId() + ", request=" + request + "}";
  }
}
