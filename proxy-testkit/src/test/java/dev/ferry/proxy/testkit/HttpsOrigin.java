package dev.ferry.proxy.testkit;

import dev.ferry.proxy.UpstreamTls;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import okhttp3.WebSocket;
import okhttp3.WebSocketListener;

/**
 * An HTTPS test origin: MockWebServer on localhost with a certificate issued at test time by a
 * CA of its own, which the proxy must be told to trust ({@link #upstreamTls()}). It answers
 * {@code <method> <path>: <body>} with an {@code X-Origin: tls} header, and echoes WebSocket
 * messages on {@code /ws}.
 */
final class HttpsOrigin implements AutoCloseable {
  private final TestPki authority;
  private final MockWebServer server = new MockWebServer();

  private HttpsOrigin() throws Exception {
    authority = TestPki.authority();
    server.useHttps(authority.issue("localhost", "127.0.0.1").keyContext().getSocketFactory(), false);
    server.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        if (request.getPath().equals("/ws")) {
          return new MockResponse().withWebSocketUpgrade(new Echo());
        }
        return new MockResponse().setHeader("X-Origin", "tls").setBody(request.getMethod() + " "
            + request.getPath() + ": " + request.getBody().readUtf8());
      }
    });
    server.start();
  }

  /** Starts an origin. */
  static HttpsOrigin start() {
    try {
      return new HttpsOrigin();
    } catch (Exception e) {
      throw new IllegalStateException("could not start the HTTPS origin", e);
    }
  }

  /** {@code https://localhost:<port><path>}. */
  URI url(String path) {
    return server.url(path).uri();
  }

  int port() {
    return server.getPort();
  }

  /** What the proxy needs to verify this origin: its CA, and only that. */
  UpstreamTls upstreamTls() {
    try {
      return UpstreamTls.trusting(authority.trustStore());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** A client context trusting this origin's CA: for clients that reach it through a blind tunnel. */
  javax.net.ssl.SSLContext clientContext() {
    try {
      return authority.trustContext();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  int requestCount() {
    return server.getRequestCount();
  }

  @Override
  public void close() {
    try {
      server.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Sends every text message back, prefixed. */
  static final class Echo extends WebSocketListener {
    @Override
    public void onMessage(WebSocket webSocket, String text) {
      webSocket.send("echo " + text);
    }

    @Override
    public void onClosing(WebSocket webSocket, int code, String reason) {
      webSocket.close(code, reason);
    }
  }
}
