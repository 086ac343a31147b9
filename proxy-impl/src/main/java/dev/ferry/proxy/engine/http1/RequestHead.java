package dev.ferry.proxy.engine.http1;

import dev.ferry.proxy.Headers;

/** A parsed request line and header section. {@code minorVersion} is 0 or 1. */
public record RequestHead(String method, String target, int minorVersion, Headers headers) {
  public String version() {
    return minorVersion == 0 ? "HTTP/1.0" : "HTTP/1.1";
  }
}
