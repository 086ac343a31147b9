package dev.ferry.proxy.engine.tls;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;

/**
 * The server side of a TLS connection, driven by an {@link SSLEngine} over an accepted plain
 * socket, with the blocking streams of a socket.
 *
 * <p>Why not the JDK's {@code SSLSocket}: its handshake cannot stop and resume. A read that
 * times out mid-handshake leaves it unusable, so a client that sends its ClientHello and then
 * stalls held a thread until the request-header timeout. Here the handshake is just what
 * reading does first: a read whose SO_TIMEOUT passes mid-handshake throws
 * {@link java.net.SocketTimeoutException} and leaves the engine and the bytes received as they
 * were, so the connection can wait for more on a selector without a thread (see
 * {@link #channelBeneath()}) and the next read goes on where this one stopped. Every complete
 * record received is unwrapped before a read blocks, so once a read finds nothing, whatever
 * the client sends next is still in the kernel, where a selector sees it.
 *
 * <p>Reads and writes may run on two threads (a tunnel). Reads hold the read lock, writes the
 * write lock; a read that must answer the handshake takes the write lock inside the read lock,
 * never the other way round. Client-initiated renegotiation (TLS 1.2) is refused, as nginx does:
 * it costs the server a handshake per request and serves no HTTP/1.1 client.
 *
 * <pre>{@code
 * EngineSocket tls = serverTls.accept(plain, peekedBytes);
 * tls.setSoTimeout(10_000);
 * tls.startHandshake(); // optional: the first read handshakes as well
 * }</pre>
 */
public final class EngineSocket extends LayeredSocket {
  /** Why a handshake failed whose client closed the connection before it completed. */
  public static final String CLOSED_IN_HANDSHAKE = "the client closed the connection during the handshake";
  private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);
  /** Bounds the wraps of one handshake flight or closing, against an engine that never settles. */
  private static final int MAX_WRAPS = 16;
  /** How many records a large write gathers per socket write. */
  private static final int GATHERED_RECORDS = 4;

  private final SSLEngine engine;
  private final InputStream netIn;
  private final OutputStream netOut;
  private final ReentrantLock readLock = new ReentrantLock();
  private final ReentrantLock writeLock = new ReentrantLock();
  private final Input input = new Input();
  private final Output output = new Output();
  /** Ciphertext received and not yet unwrapped (read mode); read lock; null when empty and trimmed. */
  private ByteBuffer inbound;
  /** Decrypted bytes not yet read (read mode); read lock; null when empty and trimmed. */
  private ByteBuffer plaintext;
  /**
   * Ciphertext being gathered for one socket write (write mode); write lock. One record's size,
   * or a few once the connection has made a large write.
   */
  private ByteBuffer outbound;
  private volatile boolean handshaken;
  /** A record has been unwrapped: what follows is TLS, never a plain request. Read lock. */
  private boolean unwrapped;
  private volatile boolean closed;
  private volatile boolean outputShut;
  /** The peer's close_notify or end of stream was read; read lock. */
  private boolean inputDone;
  private volatile long bytesReceived;
  /**
   * When the blocking call under way (a read, a handshake) began, or 0 before its first socket
   * read; read lock. Its later socket reads wait only for what is left of SO_TIMEOUT.
   */
  private long blockedSinceNanos;

  /**
   * @param plain the accepted socket; closing this one closes it
   * @param engine a server-mode engine, configured, whose handshake has not begun
   * @param consumed bytes already read from {@code plain} (a peeked ClientHello), read first
   */
  private EngineSocket(Socket plain, SSLEngine engine, byte[] consumed) throws IOException {
    super(plain);
    this.engine = engine;
    this.netIn = plain.getInputStream();
    this.netOut = plain.getOutputStream();
    if (consumed.length > 0) {
      inbound = ByteBuffer.allocate(Math.max(consumed.length, engine.getSession().getPacketBufferSize()));
      inbound.put(consumed).flip();
      bytesReceived = consumed.length;
    }
    engine.beginHandshake();
  }

  /**
   * The server side over {@code plain}: an engine from {@code context} with {@code parameters},
   * its handshake begun, reading {@code consumed} first.
   */
  static EngineSocket server(Socket plain, SSLContext context, SSLParameters parameters, byte[] consumed)
      throws IOException {
    SSLEngine engine = context.createSSLEngine();
    engine.setUseClientMode(false);
    engine.setSSLParameters(parameters);
    return new EngineSocket(plain, engine, consumed);
  }

  /** The engine, for a key manager that picks the certificate by engine. */
  SSLEngine engine() {
    return engine;
  }

  /** Completes the handshake now, blocking under SO_TIMEOUT; reads and writes do it themselves. */
  public void startHandshake() throws IOException {
    readLock.lock();
    try {
      blockedSinceNanos = 0;
      while (!handshaken) {
        if (!advance()) {
          throw new SSLHandshakeException("the client closed the connection before its handshake");
        }
      }
    } finally {
      readLock.unlock();
    }
  }

  /** True once the handshake has completed. */
  public boolean handshaken() {
    return handshaken;
  }

  /** True once any byte of the client's arrived: its handshake has begun. */
  public boolean handshakeBegun() {
    return bytesReceived > 0;
  }

  /** The session: the handshake's until it completes, then the negotiated one. */
  public SSLSession getSession() {
    SSLSession handshake = handshaken ? null : engine.getHandshakeSession();
    return handshake != null ? handshake : engine.getSession();
  }

  /**
   * The plain channel beneath, for a selector to watch for the client's next bytes while no
   * thread reads (null if the plain socket has none). Its bytes are ciphertext: never read or
   * write them. {@link #getChannel()} returns null for that reason (see {@link LayeredSocket}).
   */
  public SocketChannel channelBeneath() {
    return plain.getChannel();
  }

  /**
   * True if the client sent something this session has not read: decrypted or whole records
   * held ({@link #holdsReadableInput()}), or ciphertext still in the kernel, where a parked
   * connection's next request waits (a stop must serve it, not take the connection for idle).
   */
  public boolean hasUnreadInput() {
    if (holdsReadableInput()) {
      return true;
    }
    try {
      return plain.getInputStream().available() > 0;
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * True if a read would return bytes or make progress without the socket: decrypted bytes not
   * yet read, or a whole record received and not yet unwrapped (a read takes one record's
   * worth and leaves the records that came with it). A selector sees only the kernel's bytes,
   * so a connection must not wait on one while this holds.
   */
  public boolean holdsReadableInput() {
    readLock.lock();
    try {
      return (plaintext != null && plaintext.hasRemaining())
          || (inbound != null && TlsRecords.holdsWholeRecord(inbound));
    } finally {
      readLock.unlock();
    }
  }

  /**
   * Drops the buffers that hold nothing, so that a connection parked between requests keeps no
   * record-sized buffers; they are made again by the next read or write. Call it on the thread
   * that owns the connection, while no read or write runs.
   */
  public void trim() {
    readLock.lock();
    try {
      if (plaintext != null && !plaintext.hasRemaining()) {
        plaintext = null;
      }
      if (inbound != null && !inbound.hasRemaining()) {
        inbound = null;
      }
    } finally {
      readLock.unlock();
    }
    if (writeLock.tryLock()) {
      try {
        if (outbound != null && outbound.position() == 0) {
          outbound = null;
        }
      } finally {
        writeLock.unlock();
      }
    }
  }

  private int read(byte[] bytes, int offset, int length) throws IOException {
    if (length == 0) {
      return 0;
    }
    readLock.lock();
    try {
      blockedSinceNanos = 0;
      while (plaintext == null || !plaintext.hasRemaining()) {
        if (inputDone || !advance()) {
          return -1;
        }
      }
      int n = Math.min(length, plaintext.remaining());
      plaintext.get(bytes, offset, n);
      return n;
    } finally {
      readLock.unlock();
    }
  }

  /**
   * One step of the read side, under the read lock: unwraps a buffered record (answering the
   * handshake as it asks), or reads more ciphertext from the socket when no complete record is
   * buffered. False at the end of the input.
   */
  private boolean advance() throws IOException {
    if (inputDone) {
      return false;
    }
    if (inbound == null || !inbound.hasRemaining()) {
      return receive();
    }
    if (plaintext == null) {
      plaintext = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize()).flip();
    }
    plaintext.compact();
    SSLEngineResult result;
    try {
      result = engine.unwrap(inbound, plaintext);
      unwrapped = true;
    } catch (SSLException e) {
      if (!unwrapped && !engine.getUseClientMode() && TlsRecords.looksLikePlainHttp(inbound, inbound.position())) {
        answerPlainHttp();
        throw new PlainHttpOnTlsPort();
      }
      sendAlert();
      throw e;
    } finally {
      plaintext.flip();
    }
    switch (result.getStatus()) {
      case BUFFER_UNDERFLOW -> {
        return receive();
      }
      case BUFFER_OVERFLOW -> {
        plaintext = grow(plaintext, engine.getSession().getApplicationBufferSize());
        return true;
      }
      case CLOSED -> {
        inputDone = true;
        answerOrAlert(result.getHandshakeStatus());
        return false;
      }
      default -> {
        if (handshaken && result.getHandshakeStatus() != HandshakeStatus.NOT_HANDSHAKING
            && "TLSv1.2".equals(engine.getSession().getProtocol())) {
          throw new SSLException("client-initiated renegotiation refused");
        }
        answerOrAlert(result.getHandshakeStatus());
        return true;
      }
    }
  }

  /** Reads what the socket has (blocking under SO_TIMEOUT) behind the buffered ciphertext. */
  private boolean receive() throws IOException {
    int packet = engine.getSession().getPacketBufferSize();
    if (inbound == null) {
      inbound = ByteBuffer.allocate(packet).flip();
    }
    if (inbound.position() > 0 || inbound.limit() == inbound.capacity()) {
      inbound.compact().flip();
    }
    if (inbound.limit() == inbound.capacity()) {
      inbound = grow(inbound, packet);
    }
    int n = readWithinTimeout();
    if (n < 0) {
      inputDone = true;
      if (!handshaken && bytesReceived > 0) {
        throw new SSLHandshakeException(CLOSED_IN_HANDSHAKE);
      }
      try {
        engine.closeInbound();
      } catch (SSLException truncated) {
        // No close_notify: HTTP's own framing tells whether a message was cut short.
      }
      return false;
    }
    inbound.limit(inbound.limit() + n);
    bytesReceived += n;
    return true;
  }

  /**
   * Reads ciphertext behind what is buffered. SO_TIMEOUT bounds the whole blocking call, not
   * each socket read: a client that trickled a record a byte at a time, each byte within the
   * timeout, completed no record and restarted the wait with every byte, so a kept-alive
   * connection waiting on its thread outlived the idle and header timeouts for as long as the
   * bytes came (probe tls F1). The first read of a call takes the timeout as it is set.
   */
  private int readWithinTimeout() throws IOException {
    byte[] array = inbound.array();
    int offset = inbound.limit();
    int length = inbound.capacity() - offset;
    long now = System.nanoTime();
    if (blockedSinceNanos == 0) {
      blockedSinceNanos = now;
      return netIn.read(array, offset, length);
    }
    int timeout = plain.getSoTimeout();
    if (timeout == 0) {
      return netIn.read(array, offset, length);
    }
    long left = timeout - (now - blockedSinceNanos) / 1_000_000;
    if (left <= 0) {
      throw new SocketTimeoutException("Read timed out");
    }
    plain.setSoTimeout((int) left);
    try {
      return netIn.read(array, offset, length);
    } finally {
      plain.setSoTimeout(timeout);
    }
  }

  /**
   * {@link #answerHandshake}, sending the alert the engine holds when the handshake fails there
   * (no common protocol or ALPN value, a missing or refused client certificate: RFC 8446 §6.2),
   * instead of closing without a word.
   */
  private void answerOrAlert(HandshakeStatus status) throws IOException {
    try {
      answerHandshake(status);
    } catch (SSLException e) {
      sendAlert();
      throw e;
    }
  }

  /** Runs delegated tasks and sends what the handshake asks to send, until it waits for the peer. */
  private void answerHandshake(HandshakeStatus status) throws IOException {
    while (true) {
      switch (status) {
        case FINISHED -> {
          handshaken = true;
          status = engine.getHandshakeStatus();
        }
        case NEED_TASK -> status = runTasks();
        case NEED_WRAP -> {
          // A flight (ServerHello to Finished) is several wraps: gathered, it is one socket write.
          writeLock.lock();
          try {
            int wraps = 0;
            do {
              status = wrap(EMPTY);
            } while (status == HandshakeStatus.NEED_WRAP && ++wraps < MAX_WRAPS);
            flushOutbound();
          } finally {
            writeLock.unlock();
          }
        }
        default -> {
          return;
        }
      }
    }
  }

  /** Runs the engine's delegated tasks (key exchange, signatures) on this thread. */
  private HandshakeStatus runTasks() {
    for (Runnable task = engine.getDelegatedTask(); task != null; task = engine.getDelegatedTask()) {
      task.run();
    }
    return engine.getHandshakeStatus();
  }

  private void write(byte[] bytes, int offset, int length) throws IOException {
    if (!handshaken) {
      startHandshake();
    }
    writeLock.lock();
    try {
      if (outputShut || closed) {
        throw new SocketException("Socket output is closed");
      }
      ByteBuffer source = ByteBuffer.wrap(bytes, offset, length);
      int packet = engine.getSession().getPacketBufferSize();
      if (length > packet && (outbound == null || outbound.capacity() < GATHERED_RECORDS * packet)) {
        // A large write (a body written whole) goes out a few records per socket write.
        flushOutbound();
        outbound = ByteBuffer.allocate(GATHERED_RECORDS * packet);
      }
      while (source.hasRemaining()) {
        if (wrap(source) == HandshakeStatus.NEED_TASK) {
          runTasks();
        }
      }
      flushOutbound();
    } finally {
      writeLock.unlock();
    }
  }

  /**
   * Wraps one record of {@code source} into the outbound buffer, first sending what it holds
   * when a record might not fit, so that a large write goes out in a few large socket writes.
   * Returns the handshake status after it.
   */
  private HandshakeStatus wrap(ByteBuffer source) throws IOException {
    int packet = engine.getSession().getPacketBufferSize();
    if (outbound == null) {
      outbound = ByteBuffer.allocate(packet);
    }
    if (outbound.remaining() < packet) {
      flushOutbound();
    }
    SSLEngineResult result = engine.wrap(source, outbound);
    switch (result.getStatus()) {
      case BUFFER_OVERFLOW -> {
        flushOutbound();
        outbound = grow(outbound.flip(), packet).compact();
      }
      case CLOSED -> {
        if (source.hasRemaining()) {
          flushOutbound();
          throw new SocketException("TLS connection closed");
        }
      }
      default -> {
        if (result.bytesConsumed() == 0 && result.bytesProduced() == 0 && source.hasRemaining()
            && result.getHandshakeStatus() != HandshakeStatus.NEED_TASK) {
          throw new SSLException("TLS engine made no progress: " + result);
        }
      }
    }
    return result.getHandshakeStatus();
  }

  private void flushOutbound() throws IOException {
    if (outbound != null && outbound.position() > 0) {
      netOut.write(outbound.array(), 0, outbound.position());
      netOut.flush();
      outbound.clear();
    }
  }

  /** Answers a plain HTTP request sent to the TLS port in plain HTTP (see {@link TlsRecords#plainHttpAnswer}). */
  private void answerPlainHttp() {
    if (!writeLock.tryLock()) {
      return;
    }
    try {
      netOut.write(TlsRecords.plainHttpAnswer());
      netOut.flush();
    } catch (IOException ignored) {
      // The client may be gone already; the handshake has failed either way.
    } finally {
      writeLock.unlock();
    }
  }

  /** After a failed handshake step the engine holds an alert for the client; best effort, as it fails. */
  private void sendAlert() {
    if (!writeLock.tryLock()) {
      return;
    }
    try {
      for (int wraps = 0; wraps < MAX_WRAPS && !engine.isOutboundDone(); wraps++) {
        wrap(EMPTY);
      }
      flushOutbound();
    } catch (IOException | RuntimeException ignored) {
      // The handshake has failed either way; the caller reports that.
    } finally {
      writeLock.unlock();
    }
  }

  /** Sends close_notify once, if the connection can still write without blocking anyone. */
  private void closeOutbound() throws IOException {
    wrapCloseNotify();
    flushOutbound();
  }

  private void wrapCloseNotify() throws IOException {
    engine.closeOutbound();
    for (int wraps = 0; wraps < MAX_WRAPS && !engine.isOutboundDone(); wraps++) {
      wrap(EMPTY);
    }
  }

  /** {@link #closeOutbound} on a non-blocking channel: what the socket takes at once goes. */
  private void closeOutboundWithoutWaiting(SocketChannel channel) throws IOException {
    wrapCloseNotify();
    if (outbound != null && outbound.position() > 0) {
      channel.write(ByteBuffer.wrap(outbound.array(), 0, outbound.position()));
      outbound.clear();
    }
  }

  private static ByteBuffer grow(ByteBuffer readMode, int atLeast) {
    ByteBuffer bigger = ByteBuffer.allocate(Math.max(atLeast, readMode.capacity() * 2));
    bigger.put(readMode).flip();
    return bigger;
  }

  @Override
  public InputStream getInputStream() throws IOException {
    if (closed) {
      throw new SocketException("Socket is closed");
    }
    return input;
  }

  @Override
  public OutputStream getOutputStream() throws IOException {
    if (closed) {
      throw new SocketException("Socket is closed");
    }
    return output;
  }

  /**
   * Sends close_notify (when the handshake completed), then closes the socket beneath. A write
   * blocked on a client that reads nothing does not hold the close up: then no close_notify is
   * sent. On a channel a selector watches (a parked connection), which is non-blocking, the
   * close_notify goes in one write that does not wait: an idle connection's socket has room.
   */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    try {
      SocketChannel channel = plain.getChannel();
      if (handshaken && !outputShut && writeLock.tryLock()) {
        try {
          outputShut = true;
          if (channel == null || channel.isBlocking()) {
            closeOutbound();
          } else {
            closeOutboundWithoutWaiting(channel);
          }
        } finally {
          writeLock.unlock();
        }
      }
    } catch (IOException | RuntimeException ignored) {
      // The client may be gone already; the socket closes either way.
    } finally {
      plain.close();
    }
  }

  /** Sends close_notify and half-closes the socket beneath; reading goes on. */
  @Override
  public void shutdownOutput() throws IOException {
    writeLock.lock();
    try {
      if (outputShut) {
        return;
      }
      outputShut = true;
      closeOutbound();
    } finally {
      writeLock.unlock();
    }
    plain.shutdownOutput();
  }

  @Override
  public boolean isOutputShutdown() {
    return outputShut || plain.isOutputShutdown();
  }

  @Override
  public boolean isClosed() {
    return closed || plain.isClosed();
  }

  private final class Input extends InputStream {
    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return EngineSocket.this.read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] bytes, int offset, int length) throws IOException {
      Objects.checkFromIndexSize(offset, length, bytes.length);
      return EngineSocket.this.read(bytes, offset, length);
    }

    /** The decrypted bytes buffered: what a read returns without touching the socket. */
    @Override
    public int available() {
      if (!readLock.tryLock()) {
        return 0; // another thread is reading: nothing is there for this one
      }
      try {
        return plaintext == null ? 0 : plaintext.remaining();
      } finally {
        readLock.unlock();
      }
    }

    @Override
    public void close() throws IOException {
      EngineSocket.this.close();
    }
  }

  private final class Output extends OutputStream {
    @Override
    public void write(int b) throws IOException {
      EngineSocket.this.write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
      Objects.checkFromIndexSize(offset, length, bytes.length);
      EngineSocket.this.write(bytes, offset, length);
    }

    @Override
    public void close() throws IOException {
      EngineSocket.this.close();
    }
  }
}
