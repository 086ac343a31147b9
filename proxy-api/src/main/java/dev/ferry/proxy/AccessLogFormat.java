package dev.ferry.proxy;

/**
 * The layout of the access log: one line per exchange on the slf4j logger {@code dev.ferry.access}
 * at info. Credentials ({@code Authorization}, {@code Proxy-Authorization}, {@code Cookie},
 * {@code Set-Cookie}) never appear in it, in any format.
 */
public enum AccessLogFormat {
  /**
   * nginx's and Apache's {@code combined} format, with the request ID appended:
   * {@code 127.0.0.1 - - [29/Nov/2026:16:12:55 +0000] "GET /a HTTP/1.1" 200 512 "-" "curl/8.5" rid=… ms=3}.
   */
  COMBINED,
  /**
   * One JSON object per line: {@code time}, {@code client}, {@code method}, {@code url},
   * {@code status}, {@code bytes}, {@code latency_ms}, {@code upstream}, {@code route},
   * {@code cache}, {@code request_id}, {@code trace_id} (and {@code failure} when set).
   */
  JSON,
  /** No access log. */
  OFF
}
