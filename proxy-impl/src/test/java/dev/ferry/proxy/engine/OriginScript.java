package dev.ferry.proxy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.ProxyServer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * The answers of a test's origin, by request path: the nth request of a path gets
 * {@code answers.apply(n)} (a path without a script gets "ok"), and every request is kept, to be
 * asserted on. {@link #start} serves it from a {@link HoldingOrigin}.
 */
record OriginScript(Map<String, Function<Integer, byte[]>> byPath, Map<String, List<TinyOrigin.Received>> received) {
  OriginScript() {
    this(new ConcurrentHashMap<>(), new ConcurrentHashMap<>());
  }

  OriginScript path(String path, Function<Integer, byte[]> answers) {
    byPath.put(path, answers);
    return this;
  }

  /** A {@link HoldingOrigin} answering as this script says (a held POST's path has none: "ok"). */
  HoldingOrigin start(ProxyTestExtension ferry) throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger requests = new AtomicInteger();
    return new HoldingOrigin(release, requests, HoldingOrigin.answeringRequests(ferry, release, requests, this::answer));
  }

  /**
   * GETs each of {@code paths} (a path, or a forward proxy's absolute URL) from {@code proxy} on a
   * connection of their own, each a MISS, and waits for that connection and its thread to be
   * done: the paths are primed while the proxy's threads, not its loops, serve them.
   */
  static void prime(ProxyServer proxy, String... paths) throws Exception {
    try (RawClient raw = new RawClient(proxy.address())) {
      for (String path : paths) {
        assertThat(raw.send("GET " + path + " HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().header("x-cache"))
            .as(path).isEqualTo("MISS");
      }
    }
    Await.until(() -> proxy.stats().activeConnections() == 0 && proxy.stats().activeWorkers() == 0,
        "the priming connection's thread to be free");
  }

  byte[] answer(TinyOrigin.Received request) {
    String path = request.requestLine().split(" ")[1];
    List<TinyOrigin.Received> ofPath = received.computeIfAbsent(path, p -> new CopyOnWriteArrayList<>());
    ofPath.add(request);
    return byPath.getOrDefault(path, i -> sized("", "ok")).apply(ofPath.size());
  }

  int requests(String path) {
    List<TinyOrigin.Received> ofPath = received.get(path);
    return ofPath == null ? 0 : ofPath.size();
  }

  /** The {@code nth} request of {@code path}, counted from 1. */
  TinyOrigin.Received request(String path, int nth) {
    return received.get(path).get(nth - 1);
  }

  /** A 200 with {@code fields} (CRLF-ended lines) and {@code body}, framed by its length. */
  static byte[] sized(String fields, String body) {
    return sized(200, fields, body);
  }

  /** As {@link #sized(String, String)}, with {@code status}. */
  static byte[] sized(int status, String fields, String body) {
    String reason = switch (status) {
      case 200 -> "OK";
      case 206 -> "Partial Content";
      case 500 -> "Internal Server Error";
      case 503 -> "Service Unavailable";
      default -> "Other";
    };
    return ("HTTP/1.1 " + status + " " + reason + "\r\n" + fields + "Content-Length: " + body.length() + "\r\n\r\n" + body)
        .getBytes(StandardCharsets.ISO_8859_1);
  }

  /** A 304 with {@code fields}. */
  static byte[] notModified(String fields) {
    return ("HTTP/1.1 304 Not Modified\r\n" + fields + "\r\n").getBytes(StandardCharsets.ISO_8859_1);
  }

  /** A 200 with {@code fields} and {@code chunks} as its chunked body. */
  static byte[] chunked(String fields, String... chunks) {
    StringBuilder answer = new StringBuilder("HTTP/1.1 200 OK\r\n" + fields + "Transfer-Encoding: chunked\r\n\r\n");
    for (String chunk : chunks) {
      answer.append(Integer.toHexString(chunk.length())).append("\r\n").append(chunk).append("\r\n");
    }
    return answer.append("0\r\n\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
  }
}
