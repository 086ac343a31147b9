package dev.ferry.proxy.engine;

import java.io.Closeable;
import java.io.IOException;
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
final class StallingTlsClient implements Closeable {
  private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

  private final RawClient raw;
  private final SSLEngine engine;
  private final ByteBuffer netIn;
  private final ByteBuffer netOut;
  private final ByteBuffer app;

  /** A client over {@code raw}'s socket (plain, or a tunnel already set up) trusting what {@code tls} trusts. */
  StallingTlsClient(RawClient raw, SSLContext tls, String host) {
    this.raw = raw;
    this.engine = tls.createSSLEngine(host, 443);
    engine.setUseClientMode(true);
    netIn = ByteBuffer.allocate(4 * engine.getSession().getPacketBufferSize());
    netOut = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
    app = ByteBuffer.allocate(4 * engine.getSession().getApplicationBufferSize());
  }

  StallingTlsClient sendHello() throws IOException {
    engine.beginHandshake();
    wrapAndSend(EMPTY);
    return this;
  }

  /** Reads the server's flight, sends the client's Finished, then {@code request} encrypted. */
  StallingTlsClient finishAndSend(String request) throws IOException {
    finish();
    wrapAndSend(ByteBuffer.wrap(request.getBytes(StandardCharsets.ISO_8859_1)));
    return this;
  }

  /** Reads the server's flight and sends the client's Finished. */
  StallingTlsClient finish() throws IOException {
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

  /** Sends {@code bytes} as they are, outside TLS: a forged or corrupted record. */
  StallingTlsClient sendRaw(byte[] bytes) throws IOException {
    raw.send(bytes);
    return this;
  }

  /** The decrypted bytes the server sends until it closes (close_notify or end of stream). */
  String readUntilClosed() throws IOException {
    while (true) {
      SSLEngineResult result = unwrap();
      if (result == null || result.getStatus() == SSLEngineResult.Status.CLOSED) {
        return new String(app.array(), 0, app.position(), StandardCharsets.ISO_8859_1);
      }
    }
  }

  /** Ends the client's side of the connection (a FIN, not a TLS close_notify). */
  StallingTlsClient shutdownOutput() throws IOException {
    raw.shutdownOutput();
    return this;
  }

  /** Reads and drops what the server sends, undecrypted, until it closes; returns the byte count. */
  long readRawUntilClosed() throws IOException {
    return raw.input().transferTo(java.io.OutputStream.nullOutputStream());
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
      int n = raw.input().read(netIn.array(), netIn.position(), netIn.remaining());
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
      raw.send(java.util.Arrays.copyOf(netOut.array(), netOut.position()));
      status = result.getHandshakeStatus();
    } while (source.hasRemaining());
    return status;
  }

  @Override
  public void close() throws IOException {
    raw.close();
  }
}
