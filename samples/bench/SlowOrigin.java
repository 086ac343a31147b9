import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * An origin that takes its time, as application backends do: every request, whatever its path,
 * is answered after DELAY_MS with BYTES bytes, on a connection kept alive. The load scripts'
 * nginx origin answers at once, which measures a proxy's own cost; this one measures how many
 * requests a proxy keeps in flight, where a thread pool's cap shows (200 threads and a 50 ms
 * backend: at most 4,000 requests a second). The JDK's HTTP server on a virtual thread per
 * request where the JDK has them (Java 21+), else a thread per request; it keeps up to 10,000
 * idle connections, where its default of 200 made a proxy holding more reconnect.
 * Run by ab.sh with DELAY: {@code java SlowOrigin.java PORT DELAY_MS BYTES}; loopback only.
 */
public final class SlowOrigin {
  public static void main(String[] args) throws Exception {
    System.setProperty("sun.net.httpserver.maxIdleConnections", "10000");
    System.setProperty("sun.net.httpserver.idleInterval", "600");
    int port = Integer.parseInt(args[0]);
    long delayMillis = Long.parseLong(args[1]);
    byte[] body = new byte[Integer.parseInt(args[2])];
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 4096);
    server.createContext("/", exchange -> {
      try {
        exchange.getRequestBody().readAllBytes();
        Thread.sleep(delayMillis);
        exchange.sendResponseHeaders(200, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(body);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (IOException e) {
        // The client went away; the next request is another's.
      } finally {
        exchange.close();
      }
    });
    server.setExecutor(perRequest());
    server.start();
  }

  private static ExecutorService perRequest() {
    try {
      return (ExecutorService) Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
    } catch (ReflectiveOperationException e) {
      return Executors.newCachedThreadPool();
    }
  }
}
