package dev.ferry.samples.bench;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * Opens N keep-alive connections to a proxy on 127.0.0.1, sends one request on each, keeps them
 * open and idle, and reports the proxy process's resident memory before and after. With a
 * certificate file, the connections speak TLS to the proxy, trusting that certificate.
 * Usage: {@code IdleConnections PROXY_PORT COUNT PROXY_PID [CERT_PEM]}.
 */
public final class IdleConnections {
  private IdleConnections() {}

  /** Runs the measurement; bounded by the socket timeouts and the count. */
  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    int count = Integer.parseInt(args[1]);
    long pid = Long.parseLong(args[2]);
    SSLSocketFactory tls = args.length > 3 ? trusting(Path.of(args[3])).getSocketFactory() : null;
    long before = rssKb(pid);
    byte[] request = "GET /bytes/16 HTTP/1.1\r\nHost: bench\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
    List<Socket> sockets = new ArrayList<>(count);
    try {
      for (int i = 0; i < count; i++) {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        socket.setSoTimeout(10_000);
        if (tls != null) {
          socket = tls.createSocket(socket, "127.0.0.1", port, true);
        }
        sockets.add(socket);
        socket.getOutputStream().write(request);
        readResponse(socket.getInputStream());
      }
      // Give the proxy time to pass its short keep-alive grace and drop its buffers.
      Thread.sleep(2000);
      new ProcessBuilder("jcmd", Long.toString(pid), "GC.run").inheritIO().start().waitFor();
      Thread.sleep(1000);
      long after = rssKb(pid);
      System.out.printf("idle_connections=%d rss_before_kb=%d rss_after_kb=%d rss_per_connection_kb=%.1f%n",
          count, before, after, (after - before) / (double) count);
      new ProcessBuilder("jcmd", Long.toString(pid), "GC.heap_info").inheritIO().start().waitFor();
      // Then each idle connection asks again: all of them should still be served.
      int answered = 0;
      for (Socket socket : sockets) {
        try {
          socket.getOutputStream().write(request);
          readResponse(socket.getInputStream());
          answered++;
        } catch (IOException refused) {
          // Counted below.
        }
      }
      System.out.printf("idle_connections=%d answered_after_idle=%d refused=%d%n", count, answered,
          count - answered);
    } finally {
      for (Socket socket : sockets) {
        socket.close();
      }
    }
  }

  private static void readResponse(InputStream in) throws IOException {
    int newlines = 0;
    int b;
    while (newlines < 2 && (b = in.read()) != -1) {
      if (b == '\n') {
        newlines++;
      } else if (b != '\r') {
        newlines = 0;
      }
    }
    in.readNBytes(16);
  }

  /**
   * A client TLS context trusting only the certificate(s) in the PEM file {@code pem}: how the
   * benchmarks and the CLI's TLS tests trust a certificate made for the run.
   */
  public static SSLContext trusting(Path pem) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    try (InputStream in = Files.newInputStream(pem)) {
      int i = 0;
      for (Certificate certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        trust.setCertificateEntry("proxy-" + i++, certificate);
      }
    }
    TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init(trust);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, factory.getTrustManagers(), null);
    return context;
  }

  private static long rssKb(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("\\D", ""));
      }
    }
    return -1;
  }
}
