package dev.ferry.proxy.engine;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * An origin that holds a {@code POST .../hold} until released, for tests that take a proxy's
 * only thread with one request and show that other requests are served without one (on the event
 * loops): {@code release} lets the held POSTs be answered, {@code requests} counts every request
 * as it arrives.
 */
record HoldingOrigin(CountDownLatch release, AtomicInteger requests, TinyOrigin origin) {
  static final byte[] OK = "ok".getBytes(StandardCharsets.ISO_8859_1);

  /** One answering "ok" to everything. */
  static HoldingOrigin answeringOk(ProxyTestExtension ferry) throws IOException {
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger requests = new AtomicInteger();
    return new HoldingOrigin(release, requests, start(ferry, release, requests, "", line -> OK));
  }

  /**
   * An origin answering each request 200 with {@code fields} and the body {@code body} makes of
   * its request line, but holding a {@code POST} whose target ends in {@code /hold} until
   * {@code release}; {@code requests} counts every request as it arrives.
   */
  static TinyOrigin start(ProxyTestExtension ferry, CountDownLatch release, AtomicInteger requests,
      String fields, Function<String, byte[]> body) throws IOException {
    return answering(ferry, release, requests, line -> {
      byte[] content = body.apply(line);
      byte[] head = ("HTTP/1.1 200 OK\r\n" + fields + "Content-Length: " + content.length + "\r\n\r\n")
          .getBytes(StandardCharsets.ISO_8859_1);
      byte[] whole = Arrays.copyOf(head, head.length + content.length);
      System.arraycopy(content, 0, whole, head.length, content.length);
      return whole;
    });
  }

  /**
   * An origin answering each request with the raw bytes {@code answer} makes of its request line
   * (closing the connection after an answer whose head says {@code Connection: close}), but
   * holding a {@code POST} whose target ends in {@code /hold} until {@code release};
   * {@code requests} counts every request as it arrives.
   */
  static TinyOrigin answering(ProxyTestExtension ferry, CountDownLatch release, AtomicInteger requests,
      Function<String, byte[]> answer) throws IOException {
    return answeringRequests(ferry, release, requests, request -> answer.apply(request.requestLine()));
  }

  /** As {@link #answering}, {@code answer} making its bytes of the whole request. */
  static TinyOrigin answeringRequests(ProxyTestExtension ferry, CountDownLatch release, AtomicInteger requests,
      Function<TinyOrigin.Received, byte[]> answer) throws IOException {
    TinyOrigin[] self = new TinyOrigin[1];
    self[0] = ferry.track(new TinyOrigin((socket, in, out) -> {
      TinyOrigin.Received request;
      while ((request = self[0].readRequest(in)) != null) {
        String line = request.requestLine();
        requests.incrementAndGet();
        if (line.startsWith("POST ") && line.contains("/hold ")) {
          try {
            release.await(10, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            return;
          }
        }
        byte[] bytes = answer.apply(request);
        out.write(bytes);
        out.flush();
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        if (text.substring(0, text.indexOf("\r\n\r\n") + 2).contains("\r\nConnection: close\r\n")) {
          return;
        }
      }
    }));
    return self[0];
  }

  /** Lets the held POSTs be answered; returns the body of {@code held}'s answer. */
  String releaseHeld(RawClient held) throws IOException {
    release.countDown();
    return held.readResponse().bodyText();
  }

  /**
   * Sends {@code POST <target>} (a path or a forward proxy's absolute URL ending in {@code /hold})
   * on {@code client}, its body chunked, which only the threads stream: it takes a thread until
   * the origin is released; returns once it is the origin's {@code nth} request.
   */
  static void hold(RawClient client, String target, AtomicInteger requests, int nth) throws IOException {
    hold(client, target, "", requests, nth);
  }

  /** As {@link #hold(RawClient, String, AtomicInteger, int)}, the POST carrying {@code fields} (CRLF-ended lines). */
  static void hold(RawClient client, String target, String fields, AtomicInteger requests, int nth)
      throws IOException {
    client.send("POST " + target + " HTTP/1.1\r\nHost: a\r\n" + fields
        + "Transfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n");
    Await.until(() -> requests.get() >= nth, "the POST to reach the origin");
  }
}
