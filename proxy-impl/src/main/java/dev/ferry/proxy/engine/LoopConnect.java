package dev.ferry.proxy.engine;

import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.LogValues;
import dev.ferry.proxy.engine.http1.ProxyFailure;
import dev.ferry.proxy.engine.upstream.HostNames;
import dev.ferry.proxy.engine.upstream.NameLookups;
import dev.ferry.proxy.engine.upstream.UpstreamKey;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link LoopExchange}'s way to a new upstream connection: the endpoint's address, or the
 * addresses its name has, looked up off the loop ({@link NameLookups}), each checked as the
 * blocking path's connector checks them (never the proxy's own listener, 508), tried in turn
 * until one takes the connection, within the one connect deadline the exchange keeps. It opens
 * the connection and hands it to the exchange ({@link LoopExchange#opened}); a failure the
 * attempt cannot get past goes to {@link LoopExchange#failedBeforeAnswer}, a refused connect
 * being logged as the blocking path's {@code Connector} logs it.
 */
final class LoopConnect {
  /** The exchange's logger: a connect failure's event keeps the name it was logged under. */
  private static final Logger log = LoggerFactory.getLogger(LoopExchange.class);

  private final EventLoop loop;
  private final LoopExchange exchange;
  private UpstreamKey key;
  /** The address being connected to; null while the name is looked up. */
  private InetSocketAddress connectingTo;
  /** The addresses this attempt connects to, in turn, and the next one's index. */
  private List<InetAddress> addresses;
  private int nextAddress;
  /** Counts the lookups started: an answer to one the exchange gave up on is dropped. */
  private int lookups;
  /** The attempt waits for its endpoint's name to be looked up (it holds the pool's slots). */
  private boolean lookingUp;

  LoopConnect(EventLoop loop, LoopExchange exchange) {
    this.loop = loop;
    this.exchange = exchange;
  }

  /** Opens a new connection to {@code to}: at once to an address, after a lookup to a name. */
  void start(UpstreamKey to) {
    key = to;
    connectingTo = null;
    try {
      // As the threads' connector vets it: a destination refused whatever its name resolves to
      // costs no lookup, and is refused 403 even where the name would not resolve.
      exchange.destinationCheck().checkUnresolved(to.host(), to.port(), false);
    } catch (HttpFailureException e) {
      exchange.failedBeforeAnswer(e);
      return;
    }
    Optional<InetAddress> address = HostNames.literal(to.host());
    if (address.isPresent()) {
      connect(List.of(address.get()));
      return;
    }
    int lookup = ++lookups;
    lookingUp = true;
    loop.server().nameLookups().lookUp(to,
        (found, failure) -> loop.later(exchange, () -> lookedUp(lookup, found, failure)));
  }

  /** The name was looked up: the attempt goes on, unless it ended meanwhile (a timeout, the client). */
  private void lookedUp(int lookup, List<InetAddress> found, HttpFailureException failure) {
    if (!lookingUp || lookup != lookups) {
      return;
    }
    lookingUp = false;
    if (failure != null) {
      exchange.failedBeforeAnswer(failure);
      return;
    }
    connect(found);
  }

  private void connect(List<InetAddress> found) {
    try {
      exchange.destinationCheck().check(key.host(), key.port(), found, false);
    } catch (HttpFailureException e) {
      exchange.failedBeforeAnswer(e);
      return;
    }
    addresses = found;
    nextAddress = 0;
    next();
  }

  /** Opens a connection to the next address; one refused at once moves on to the one after it. */
  private void next() {
    connectingTo = new InetSocketAddress(addresses.get(nextAddress++), key.port());
    LoopUpstream opened;
    try {
      opened = loop.openUpstream(key, connectingTo);
    } catch (IOException e) {
      broke(e);
      return;
    }
    exchange.opened(opened);
  }

  /**
   * The connect failed (the exchange dropped the connection): on to the next address within the
   * same deadline, or the attempt failed.
   */
  void broke(IOException e) {
    if (e instanceof HttpFailureException h) {
      exchange.failedBeforeAnswer(h);
      return;
    }
    logFailed(LogValues.quoted(e.getMessage()));
    if (nextAddress >= addresses.size()) {
      // As the threads' Connector says it: the authority no address of which took the connection.
      exchange.failedBeforeAnswer(new HttpFailureException(ProxyFailure.UPSTREAM_UNREACHABLE, key.authority(), e));
      return;
    }
    next();
  }

  /** The connect deadline passed: a lookup's answer is dropped; the failure to answer with. */
  HttpFailureException timedOut() {
    lookingUp = false;
    logFailed("timeout");
    return new HttpFailureException(ProxyFailure.UPSTREAM_CONNECT_TIMEOUT, "connecting to " + key.host());
  }

  /** The exchange ends: true if it waited for a lookup, whose answer is dropped now. */
  boolean abandon() {
    boolean waited = lookingUp;
    lookingUp = false;
    return waited;
  }

  /** The blocking path's {@code Connector} event for a connect that failed, with its error. */
  private void logFailed(String error) {
    log.warn("server_connect_failed host={} port={} address={} error={}", key.host(), key.port(),
        connectingTo == null ? "-" : connectingTo.getAddress().getHostAddress(), error);
  }
}
