package dev.ferry.proxy.engine.health;

import dev.ferry.proxy.ProxyConfig;

/**
 * The limits a response head from an upstream is read with, the proxy's own for requests'
 * answers, so that an endpoint whose every answer would be refused for its head is no healthy
 * one either.
 */
public record HeadLimits(int maxHeaderBytes, int maxHeaderCount) {
  /** The limits {@code config} reads upstream answers with. */
  public static HeadLimits of(ProxyConfig config) {
    return new HeadLimits(config.maxHeaderBytes(), config.maxHeaderCount());
  }
}
