package dev.ferry.proxy.engine.tls;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;

/**
 * A TLS client driven step by step with an {@link SSLEngine}, for tests of handshakes that stall:
 * {@link #sendHello} sends the ClientHello and nothing more (the server's answer stays unread),
 * {@link #finishAndSend} later completes the handshake and sends a request, and
 * {@link #readUntilClosed} reads the answer.
 */
public final class StallingTlsClient implements Closeable {
  private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;
  private final SSLEngine engine;
  private final ByteBuffer netIn;
  private final ByteBuffer netOut;
  private final ByteBuffer app;

  /**
   * A client over {@code socket} (plain, or a tunnel already set up, nothing of it read ahead)
   * trusting what {@code tls} trusts, for {@code host}.
   */
  public StallingTlsClient(Socket socket, SSLContext tls, String host) throws IOException {
    this.socket = socket;
    this.in = socket.getInputStream();
    this.out = socket.getOutputStream();
    this.engine = tls.createSSLEngine(host, 443);
    engine.setUseClientMode(true);
    netIn = ByteBuffer.allocate(4 * engine.getSession().getPacketBufferSize());
    netOut = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
    app = ByteBuffer.allocate(4 * engine.getSession().getApplicationBufferSize());
  }

  public StallingTlsClient sendHello() throws IOException {
    engine.beginHandshake();
    wrapAndSend(EMPTY);
    return this;
  }

  /** Reads the server's flight, sends the client's Finished, then {@code request} encrypted. */
  public StallingTlsClient finishAndSend(String request) throws IOException {
    finish();
    wrapAndSend(ByteBuffer.wrap(request.getBytes(StandardCharsets.ISO_8859_1)));
    return this;
  }

  /** Reads the server's flight and sends the client's Finished. */
  public StallingTlsClient finish() throws IOException {
    HandshakeStatus status = engine.getHandshakeStatus();
    while (status != HandshakeStatus.FINISHED && status != HandshakeStatus.NOT_HANDSHAKING) {
      switch (status) {
        case NEED_WRAP -> status = wrapAndSend(EMPTY);
        case NEED_TASK -> {
          for (Runnable task = engine.getDelegatedTask(); task != null; task = engine.getDelegatedTask()) {
            task.run();
          }
          status = engine.getHandshakeStatus();
        }
        default -> status = unwrap().getHandshakeStatus();
      }
    }
    return this;
  }

  /**
   * Sends each of {@code parts} as a record of its own, all in one socket write, so that they
   * arrive together: a server reads them in one go and decrypts them one by one.
   */
  public StallingTlsClient sendRecords(String... parts) throws IOException {
    ByteArrayOutputStream records = new ByteArrayOutputStream();
    for (String part : parts) {
      netOut.clear();
      engine.wrap(ByteBuffer.wrap(part.getBytes(StandardCharsets.ISO_8859_1)), netOut);
      records.write(netOut.array(), 0, netOut.position());
    }
    send(records.toByteArray(), records.size());
    return this;
  }

  /** Sends {@code bytes} as they are, outside TLS: a forged or corrupted record. */
  public StallingTlsClient sendRaw(byte[] bytes) throws IOException {
    send(bytes, bytes.length);
    return this;
  }

  /** The decrypted bytes the server sends until it closes (close_notify or end of stream). */
  public String readUntilClosed() throws IOException {
    while (true) {
      SSLEngineResult result = unwrap();
      if (result == null || result.getStatus() == SSLEngineResult.Status.CLOSED) {
        return new String(app.array(), 0, app.position(), StandardCharsets.ISO_8859_1);
      }
    }
  }

  /** Ends the client's side of the connection (a FIN, not a TLS close_notify). */
  public StallingTlsClient shutdownOutput() throws IOException {
    socket.shutdownOutput();
    return this;
  }

  /** Reads and drops what the server sends, undecrypted, until it closes; returns the byte count. */
  public long readRawUntilClosed() throws IOException {
    return in.transferTo(OutputStream.nullOutputStream());
  }

  /** One unwrap, reading from the socket first when no whole record is buffered; null at its end. */
  private SSLEngineResult unwrap() throws IOException {
    while (true) {
      netIn.flip();
      SSLEngineResult result = engine.unwrap(netIn, app);
      netIn.compact();
      if (result.getStatus() != SSLEngineResult.Status.BUFFER_UNDERFLOW) {
        return result;
      }
      int n = in.read(netIn.array(), netIn.position(), netIn.remaining());
      if (n < 0) {
        return null;
      }
      netIn.position(netIn.position() + n);
    }
  }

  private HandshakeStatus wrapAndSend(ByteBuffer source) throws IOException {
    HandshakeStatus status;
    do {
      netOut.clear();
      SSLEngineResult result = engine.wrap(source, netOut);
      send(netOut.array(), netOut.position());
      status = result.getHandshakeStatus();
    } while (source.hasRemaining());
    return status;
  }

  private void send(byte[] bytes, int length) throws IOException {
    out.write(bytes, 0, length);
    out.flush();
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
