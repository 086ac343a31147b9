package dev.ferry.proxy.engine;

import dev.ferry.proxy.Exchange;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.Route;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/** The exchange an admin filter sees: a request to the admin listener, never proxied. */
final class AdminExchange implements Exchange {
  private final Request request;
  private final InetSocketAddress local;
  private final Instant start = Instant.now();
  private final Map<Class<?>, Object> attributes = new HashMap<>();

  AdminExchange(Request request, InetSocketAddress local) {
    this.request = request;
    this.local = local;
  }

  @Override
  public long id() {
    return 0;
  }

  @Override
  public long connectionId() {
    return 0;
  }

  @Override
  public int sequence() {
    return 1;
  }

  @Override
  public InetSocketAddress clientAddress() {
    return local;
  }

  @Override
  public InetSocketAddress localAddress() {
    return local;
  }

  @Override
  public Instant startTime() {
    return start;
  }

  @Override
  public Request request() {
    return request;
  }

  @Override
  public Optional<Route> route() {
    return Optional.empty();
  }

  @Override
  public Optional<String> endpoint() {
    return Optional.empty();
  }

  @Override
  public Mode mode() {
    return Mode.REVERSE;
  }

  @Override
  public <T> Optional<T> attribute(Class<T> key) {
    return Optional.ofNullable(key.cast(attributes.get(key)));
  }

  @Override
  public <T> void attribute(Class<T> key, T value) {
    attributes.put(key, key.cast(value));
  }
}
