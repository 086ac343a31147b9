package dev.ferry.proxy.engine;

import dev.ferry.proxy.ProxyConfig;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * What {@code reconfigure} may change on a running proxy: routes, pools and filters (the admin
 * endpoint's too). Everything
 * else is bound into running parts (the listener, the executor, timeouts in connections already
 * open, the cache), so a change to it is refused with the option's name rather than silently
 * ignored.
 */
final class ConfigChanges {
  private static final Map<String, Function<ProxyConfig, Object>> FIXED = new LinkedHashMap<>();

  static {
    FIXED.put("bindAddress", ProxyConfig::bindAddress);
    FIXED.put("port", ProxyConfig::port);
    FIXED.put("concurrency", ProxyConfig::concurrency);
    FIXED.put("connectTimeout", ProxyConfig::connectTimeout);
    FIXED.put("requestHeaderTimeout", ProxyConfig::requestHeaderTimeout);
    FIXED.put("idleTimeout", ProxyConfig::idleTimeout);
    FIXED.put("upstreamTimeout", ProxyConfig::upstreamTimeout);
    FIXED.put("upstreamKeepAlive", ProxyConfig::upstreamKeepAlive);
    FIXED.put("writeTimeout", ProxyConfig::writeTimeout);
    FIXED.put("minRequestBodyRate", ProxyConfig::minRequestBodyRate);
    FIXED.put("retryBufferBytes", ProxyConfig::retryBufferBytes);
    FIXED.put("requestBufferBytes", ProxyConfig::requestBufferBytes);
    FIXED.put("requestSpoolBytes", ProxyConfig::requestSpoolBytes);
    FIXED.put("requestSpoolDirectory", ProxyConfig::requestSpoolDirectory);
    FIXED.put("upstreamSslContext", ProxyConfig::upstreamSslContext);
    FIXED.put("upstreamTls", ProxyConfig::upstreamTls);
    FIXED.put("tls", ProxyConfig::tls);
    FIXED.put("interceptTls", ProxyConfig::interceptTls);
    FIXED.put("allowConnectPorts", c -> c.allowsAnyConnectPort() ? "any" : c.allowedConnectPorts());
    FIXED.put("allowPrivateDestinations", ProxyConfig::allowsPrivateDestinations);
    FIXED.put("maxIdleUpstreamConnections", ProxyConfig::maxIdleUpstreamConnections);
    FIXED.put("maxConnections", ProxyConfig::maxConnections);
    FIXED.put("maxRequestLineBytes", ProxyConfig::maxRequestLineBytes);
    FIXED.put("maxHeaderBytes", ProxyConfig::maxHeaderBytes);
    FIXED.put("maxHeaderCount", ProxyConfig::maxHeaderCount);
    FIXED.put("maxRequestBodyBytes", ProxyConfig::maxRequestBodyBytes);
    FIXED.put("requestIdHeader", ProxyConfig::requestIdHeader);
    FIXED.put("accessLog", ProxyConfig::accessLog);
    FIXED.put("quietLogs", ProxyConfig::quietLogs);
    FIXED.put("errorPage", ProxyConfig::errorPages);
    FIXED.put("admin", ProxyConfig::admin);
    FIXED.put("statsOnProxyPort", ProxyConfig::statsOnProxyPort);
    // By every option (probe e25: compared by toString, a new statusHeader was taken and never
    // applied, while config() showed it).
    FIXED.put("cache", ProxyConfig::cache);
    FIXED.put("listeners", ProxyConfig::listeners);
    FIXED.put("mode (forward or reverse)", c -> c.isReverse() ? "reverse" : "forward");
    // After the mode, which decides the default: the loops start with the proxy.
    FIXED.put("eventLoop", ProxyConfig::eventLoop);
  }

  private ConfigChanges() {}

  /** A value as a message shows it: an Optional as its value or "none". */
  private static String shown(Object value) {
    return value instanceof Optional<?> optional ? optional.map(String::valueOf).orElse("none") : String.valueOf(value);
  }

  /**
   * @throws IllegalArgumentException naming the first option other than routes, upstream and
   *     filters that differs
   */
  static void requireOnlyRoutingChanged(ProxyConfig current, ProxyConfig next) {
    for (Map.Entry<String, Function<ProxyConfig, Object>> option : FIXED.entrySet()) {
      Object was = option.getValue().apply(current);
      Object now = option.getValue().apply(next);
      if (!Objects.equals(was, now)) {
        throw new IllegalArgumentException(option.getKey() + " cannot change on a running proxy (was "
            + shown(was) + ", asked " + shown(now) + "); only routes, upstreams and filters can; "
            + "restart for the rest");
      }
    }
  }
}
