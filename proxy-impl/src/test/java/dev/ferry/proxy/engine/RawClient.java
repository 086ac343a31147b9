package dev.ferry.proxy.engine;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A raw-socket HTTP/1.1 client for tests that need exact bytes: malformed input, pipelining,
 * connection reuse. Reads responses with Content-Length, chunked or close-delimited bodies.
 */
final class RawClient implements Closeable {
  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  RawClient(InetSocketAddress address) throws IOException {
    this(address, null);
  }

  /** A client that speaks TLS to the proxy when {@code tls} is given, trusting what it trusts. */
  RawClient(InetSocketAddress address, javax.net.ssl.SSLContext tls) throws IOException {
    Socket plain = new Socket();
    plain.connect(address, 5000);
    plain.setSoTimeout(10_000);
    if (tls != null) {
      javax.net.ssl.SSLSocket ssl = (javax.net.ssl.SSLSocket) tls.getSocketFactory()
          .createSocket(plain, "localhost", address.getPort(), true);
      ssl.startHandshake();
      socket = ssl;
    } else {
      socket = plain;
    }
    in = socket.getInputStream();
    out = socket.getOutputStream();
  }

  /** A client over a socket the test set up itself. */
  RawClient(Socket socket) throws IOException {
    this.socket = socket;
    in = socket.getInputStream();
    out = socket.getOutputStream();
  }

  /**
   * A client that asks the proxy at {@code address} for a tunnel to {@code authority} and then
   * speaks TLS inside it, trusting what {@code tls} trusts (an intercepting proxy's CA).
   */
  static RawClient throughTunnel(InetSocketAddress address, String authority, javax.net.ssl.SSLContext tls)
      throws IOException {
    RawClient plain = new RawClient(address);
    RawResponse answer = plain.send("CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n")
        .readResponse(true);
    if (answer.status() != 200) {
      plain.close();
      throw new IOException("tunnel refused: " + answer.statusLine());
    }
    int colon = authority.lastIndexOf(':');
    javax.net.ssl.SSLSocket ssl = (javax.net.ssl.SSLSocket) tls.getSocketFactory().createSocket(plain.socket,
        authority.substring(0, colon), Integer.parseInt(authority.substring(colon + 1)), true);
    ssl.startHandshake();
    return new RawClient(ssl);
  }

  /** Half-closes: the peer reads the end of the stream, and this client can still read. */
  RawClient shutdownOutput() throws IOException {
    socket.shutdownOutput();
    return this;
  }

  /** Closes every client of a test that opened many. */
  static void closeAll(java.util.List<RawClient> clients) throws IOException {
    for (RawClient client : clients) {
      client.close();
    }
  }

  /** The socket, for tests that speak over it themselves (a TLS client driven by hand). */
  Socket socket() {
    return socket;
  }

  /** The socket's output, for tests that stream raw bytes themselves. */
  OutputStream output() {
    return out;
  }

  /** The socket's input, for tests that read raw bytes themselves. */
  InputStream input() {
    return in;
  }

  RawClient send(String text) throws IOException {
    return send(text.getBytes(StandardCharsets.ISO_8859_1));
  }

  RawClient send(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
    return this;
  }

  /** A response as read off the wire. */
  record RawResponse(int status, String statusLine, Map<String, String> headers, byte[] body) {
    String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }

    String bodyText() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  /** Reads one response; {@code headRequest} means no body follows. */
  RawResponse readResponse(boolean headRequest) throws IOException {
    String statusLine = readLine();
    if (statusLine == null) {
      throw new IOException("connection closed before a response");
    }
    int status = Integer.parseInt(statusLine.substring(9, 12));
    Map<String, String> headers = new LinkedHashMap<>();
    String line;
    while (!(line = readLine()).isEmpty()) {
      int colon = line.indexOf(':');
      String name = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
      String value = line.substring(colon + 1).trim();
      headers.merge(name, value, (a, b) -> a + ", " + b);
    }
    byte[] body;
    if (headRequest || status < 200 || status == 204 || status == 304) {
      body = new byte[0];
    } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
      body = readChunked();
    } else if (headers.containsKey("content-length")) {
      body = in.readNBytes(Integer.parseInt(headers.get("content-length")));
    } else {
      body = in.readAllBytes();
    }
    return new RawResponse(status, statusLine, headers, body);
  }

  RawResponse readResponse() throws IOException {
    return readResponse(false);
  }

  /**
   * Returns true if the peer closed the connection (EOF, or a reset) within the socket timeout;
   * false if it sent a byte or kept the connection open and silent that long.
   */
  boolean isClosedByPeer() {
    try {
      return in.read() == -1;
    } catch (java.net.SocketTimeoutException stillOpen) {
      return false;
    } catch (IOException e) {
      return true;
    }
  }

  private byte[] readChunked() throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    while (true) {
      String sizeLine = readLine();
      if (sizeLine == null) {
        throw new java.io.EOFException("connection closed in a chunked body");
      }
      int semicolon = sizeLine.indexOf(';');
      int size = Integer.parseInt(semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon), 16);
      if (size == 0) {
        while (!readLine().isEmpty()) {
          // trailers are ignored here
        }
        return body.toByteArray();
      }
      body.write(in.readNBytes(size));
      readLine();
    }
  }

  private String readLine() throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) != -1) {
      if (b == '\n') {
        byte[] bytes = line.toByteArray();
        int length = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        return new String(bytes, 0, length, StandardCharsets.ISO_8859_1);
      }
      line.write(b);
    }
    return line.size() == 0 ? null : line.toString(StandardCharsets.ISO_8859_1);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
