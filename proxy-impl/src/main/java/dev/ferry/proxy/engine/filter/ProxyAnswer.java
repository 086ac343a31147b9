package dev.ferry.proxy.engine.filter;

import dev.ferry.proxy.engine.http1.ProxyFailure;

/**
 * Marks, as an exchange attribute, that a built-in filter answered the request itself (401, 407,
 * 429) rather than pass it on, so the engine logs and counts the answer as the proxy's own.
 */
public record ProxyAnswer(ProxyFailure failure) {
  public int status() {
    return failure.status();
  }
}
