package dev.ferry.proxy.engine.io;

import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.FileChannel;
import java.nio.channels.SocketChannel;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;

/**
 * The buffered output side of one socket. The buffer is taken from {@link ConnectionBuffers} on
 * first write and given back by {@link #release()} once flushed, so an idle connection keeps no
 * output buffer.
 *
 * <p>Every write to the socket runs under the {@link IoWatchdog}'s deadline, when there is
 * one: a write that makes no progress in time has its socket closed and fails with
 * {@link WriteTimeoutException}. Progress is what the kernel took: a large write goes to it in
 * pieces of at most {@link #PIECE_BYTES}, each piece taken restarting the clock, so a peer that
 * reads on, even slowly, is not cut for a write longer than the timeout.
 */
public final class ConnectionOutput extends OutputStream {
  /**
   * The most one system call is given to write. A blocking write returns only once the kernel
   * took all of it, so its progress shows between calls alone: a peer must take this much within
   * the write timeout (4.3 KiB/s at the default 60 s). Not less, because each call also wakes
   * the reader: so a relayed 128 KiB buffer or a 100 KiB cache hit goes out with its head in one
   * call (in 64 KiB pieces, two).
   */
  static final int PIECE_BYTES = 256 * 1024;

  private final Socket socket;
  private final OutputStream out;
  private final int bufferSize;
  private final IoWatchdog watchdog;
  /**
   * The plain socket's channel, for gathering writes; null on TLS, where a socket layered over a
   * plain one reports that socket's channel, and writing to it would bypass the encryption.
   */
  private final SocketChannel channel;
  private byte[] buffer;
  private int count;
  private long bytesWritten;
  private Runnable beforeNextWrite;
  private boolean watched;
  private volatile long writeStartedNanos;
  private volatile boolean timedOut;
  private volatile boolean yieldToAnswer;
  /** A body is being sent over TLS, where only a failed write can give way (see {@link #yieldToAnswer}). */
  private boolean tlsBodySending;
  private volatile boolean yielded;
  /** A body is being sent from a file (see {@link #wakeTransfer}). */
  private volatile boolean transferring;
  /** Set before the proxy's stop closes the socket: a write that fails then failed because of it. */
  private volatile boolean stopped;

  /**
   * @param watchdog bounds each write; null leaves writes unbounded
   */
  public ConnectionOutput(Socket socket, int bufferSize, IoWatchdog watchdog) throws IOException {
    this.socket = socket;
    this.out = socket.getOutputStream();
    this.bufferSize = bufferSize;
    this.watchdog = watchdog;
    this.channel = socket instanceof SSLSocket ? null : socket.getChannel();
  }

  @Override
  public void write(int b) throws IOException {
    if (buffer == null) {
      buffer = ConnectionBuffers.take(bufferSize);
    }
    if (count == buffer.length) {
      flushBuffer();
    }
    buffer[count++] = (byte) b;
    bytesWritten++;
  }

  /**
   * Writes {@code text} as ISO-8859-1 straight into the buffer, with no intermediate array: the
   * head writer's text is validated header text, one byte per char.
   */
  @SuppressWarnings("deprecation") // getBytes(int, int, byte[], int) copies each char's low byte
  public void writeLatin1(String text) throws IOException {
    int length = text.length();
    bytesWritten += length;
    if (buffer == null) {
      buffer = ConnectionBuffers.take(bufferSize);
    }
    for (int done = 0; done < length; ) {
      if (count == buffer.length) {
        flushBuffer();
      }
      int n = Math.min(length - done, buffer.length - count);
      text.getBytes(done, done + n, buffer, count);
      count += n;
      done += n;
    }
  }

  @Override
  public void write(byte[] source, int offset, int length) throws IOException {
    bytesWritten += length;
    if (length >= bufferSize) {
      flushBuffer();
      writeToSocket(source, offset, length);
      return;
    }
    if (buffer == null) {
      buffer = ConnectionBuffers.take(bufferSize);
    }
    if (length > buffer.length - count) {
      flushBuffer();
    }
    System.arraycopy(source, offset, buffer, count, length);
    count += length;
  }

  @Override
  public void flush() throws IOException {
    flushBuffer();
    out.flush();
  }

  /**
   * Writes the buffered bytes and then {@code bytes}, flushed, in one gathering write, so that a
   * cached body of any size is a single system call rather than one per buffer-full. Returns
   * false, having written nothing, on TLS or a socket without a channel.
   */
  public boolean writeAndFlush(ByteBuffer bytes) throws IOException {
    if (channel == null || !channel.isBlocking()) {
      return false;
    }
    bytesWritten += bytes.remaining();
    ByteBuffer[] parts = count == 0 ? new ByteBuffer[] {bytes}
        : new ByteBuffer[] {ByteBuffer.wrap(buffer, 0, count), bytes};
    count = 0;
    int end = bytes.limit();
    try {
      // Until the last part is out: the body, or the head alone when the body is empty; the
      // head and the body's first piece together, then the body piece by piece.
      while (bytes.position() < end || parts[0].hasRemaining()) {
        bytes.limit(Math.min(end, bytes.position() + PIECE_BYTES));
        beginWrite();
        channel.write(parts);
      }
    } catch (IOException e) {
      throw writeFailure(e);
    } finally {
      bytes.limit(end);
      writeStartedNanos = 0;
    }
    return true;
  }

  /**
   * Writes what is buffered (the head), then the first {@code length} bytes of {@code file}, sent
   * by the kernel from the file's pages ({@code sendfile}), and returns true; returns false,
   * writing nothing, unless this output writes to a blocking socket channel and {@code file} is
   * open. Each piece of at most {@link #PIECE_BYTES} is one timed write, as in
   * {@link #writeAndFlush}. A thread blocked in {@code sendfile} is not woken by the socket's
   * close, only by shutting its output down, which a write timeout and the proxy's stop do.
   */
  public boolean transferAndFlush(FileChannel file, long length) throws IOException {
    if (!writesChannel() || !file.isOpen()) {
      return false;
    }
    flushBuffer();
    bytesWritten += length;
    try {
      transferring = true;
      for (long done = 0; done < length; ) {
        beginWrite();
        long sent = file.transferTo(done, Math.min(PIECE_BYTES, length - done), channel);
        if (sent <= 0) {
          throw new EOFException("the body's file ended " + (length - done) + " bytes early");
        }
        done += sent;
      }
    } catch (IOException e) {
      throw writeFailure(e);
    } finally {
      transferring = false;
      writeStartedNanos = 0;
    }
    return true;
  }

  /** True if {@link #writeAndFlush} writes through the socket's channel (a plain socket). */
  public boolean writesChannel() {
    return channel != null && channel.isBlocking();
  }

  /** Flushes, then gives the buffer back to its pool until the next write. */
  public void release() throws IOException {
    flush();
    recycle();
  }

  /**
   * Gives the buffer back to its pool, dropping whatever it still held unsent: for a connection
   * that is over, on the thread that was its last user, or once flushed ({@link #release}).
   */
  public void recycle() {
    byte[] dropped = buffer;
    buffer = null;
    count = 0;
    if (dropped != null) {
      ConnectionBuffers.give(dropped);
    }
  }

  /**
   * Takes back everything written since {@code mark} (an earlier {@link #bytesWritten}) if none
   * of it has left the buffer yet: a response whose body failed before its first byte can still
   * be replaced by an error. Returns false, taking back nothing, if some of it was sent.
   */
  public boolean retract(long mark) {
    long unsent = bytesWritten - mark;
    if (unsent < 0 || unsent > count) {
      return false;
    }
    count -= (int) unsent;
    bytesWritten = mark;
    return true;
  }

  /** Total bytes written to this connection. */
  public long bytesWritten() {
    return bytesWritten;
  }

  private void flushBuffer() throws IOException {
    if (count > 0) {
      writeToSocket(buffer, 0, count);
      count = 0;
    }
  }

  private void writeToSocket(byte[] source, int offset, int length) throws IOException {
    try {
      for (int done = 0; done < length; ) {
        int piece = Math.min(PIECE_BYTES, length - done);
        beginWrite();
        out.write(source, offset + done, piece);
        done += piece;
      }
    } catch (IOException e) {
      throw writeFailure(e);
    } finally {
      writeStartedNanos = 0;
    }
  }

  /**
   * Runs {@code action} once, just before the next write to the socket (not to the buffer), or
   * never if it is replaced first; null forgets one. What a client can read has been counted.
   */
  public void beforeNextWrite(Runnable action) {
    beforeNextWrite = action;
  }

  /** Puts the write (or piece of one) about to start under the watchdog, if there is one. */
  private void beginWrite() {
    Runnable action = beforeNextWrite;
    if (action != null) {
      beforeNextWrite = null;
      action.run();
    }
    if (watchdog == null) {
      return;
    }
    if (!watched) {
      watched = true;
      watchdog.watch(this);
    }
    writeStartedNanos = System.nanoTime();
  }

  private IOException writeFailure(IOException e) {
    if (yielded) {
      return new PeerAnsweredException("the peer answered while a write to it was blocked");
    }
    if (yieldToAnswer && peerHasSent()) {
      // The peer answered, stopped reading and closed (a server's lingering close ends in a
      // reset when the body keeps coming): its answer is still there to read.
      yielded = true;
      return new PeerAnsweredException("the peer answered and closed while the body was being written");
    }
    if (stopped) {
      ClosedByInterruptException cut = new ClosedByInterruptException();
      cut.initCause(e);
      return cut;
    }
    if (timedOut) {
      return new WriteTimeoutException("write made no progress for "
          + watchdog.writeTimeoutNanos() / 1_000_000 + " ms");
    }
    if (tlsBodySending && !(e instanceof SSLException)) {
      // The socket beneath failed (the peer closed or reset), which the JDK's TLS socket leaves
      // its session's input intact for: an answer the peer sent before its close is read there.
      yielded = true;
      return new PeerAnsweredException("the peer closed while the body was being written");
    }
    return e;
  }

  /**
   * The proxy's stop is about to close the socket: a write failing from now on reports a
   * {@link ClosedByInterruptException}, the stop's failure, not the client's.
   */
  public void markStopped() {
    stopped = true;
    wakeTransfer();
  }

  /** True once the proxy's stop closed the socket (see {@link #markStopped()}). */
  public boolean stopped() {
    return stopped;
  }

  /** True if a write started more than {@code timeoutNanos} before {@code now} is still blocked. */
  boolean stalledSince(long now, long timeoutNanos) {
    long started = writeStartedNanos;
    return started != 0 && now - started > timeoutNanos;
  }

  boolean isClosed() {
    return socket.isClosed();
  }

  /**
   * While on, a write blocked for a while on a peer that has sent something ends with
   * {@link PeerAnsweredException}, the socket's output shut down and its input left to read:
   * an upstream that answers a request before reading its body, and then stops reading, gets its
   * answer relayed instead of a write timeout (RFC 9112 §9.5). So does a write that fails
   * because such a peer closed the connection. On TLS, which cannot give up a write without
   * failing the whole connection, only the write that fails because the peer closed or reset
   * gives way: its answer, if it sent one, is read as the plain socket's is.
   */
  public void yieldToAnswer(boolean on) {
    yieldToAnswer = on && channel != null;
    tlsBodySending = on && channel == null;
  }

  /** True if a write gave way to the peer's answer: nothing more may be sent. */
  public boolean yieldedToAnswer() {
    return yielded;
  }

  /** True while {@link #yieldToAnswer} is on (a plain socket sending a body). */
  public boolean watchesForAnswer() {
    return yieldToAnswer;
  }

  /**
   * The peer answered before the whole body was sent: gives way to it as a blocked write does
   * ({@link #yieldToAnswer}), shutting the output down (what is buffered is not sent), and
   * returns the exception that ends the sending.
   */
  public PeerAnsweredException giveWay(String why) {
    yielded = true;
    count = 0;
    try {
      socket.shutdownOutput();
    } catch (IOException e) {
      // The socket broke: its answer, if whole, is still read; else reading it fails.
    }
    return new PeerAnsweredException(why);
  }

  /** Gives up a blocked write if the peer has sent something, when {@link #yieldToAnswer} is on. */
  void yieldIfAnswered() {
    if (!yieldToAnswer || yielded) {
      return;
    }
    if (peerHasSent()) {
      yielded = true;
      try {
        socket.shutdownOutput();
      } catch (IOException e) {
        // The socket broke: the blocked write fails on its own.
      }
    }
  }

  /** True if bytes from the peer wait to be read (after a reset too: the kernel keeps them). */
  private boolean peerHasSent() {
    try {
      return socket.getInputStream().available() > 0;
    } catch (IOException e) {
      return false;
    }
  }

  /** Closes the socket under a stalled write, which then fails with a write timeout. */
  void abortStalledWrite() {
    timedOut = true;
    try {
      // A reset, not a FIN: the peer is not reading, so what fills the send buffer would never
      // go, and an orphaned socket keeps that buffer for minutes of zero-window probes (nginx's
      // reset_timedout_connection). The peer also learns that the message was cut. Set before
      // a transfer is woken: its thread may close the socket first, and that close must reset.
      socket.setSoLinger(true, 0);
    } catch (IOException ignored) {
      // Already closed: nothing waits to be sent.
    }
    wakeTransfer();
    try {
      socket.close();
    } catch (IOException ignored) {
      // The write fails either way.
    }
  }

  /**
   * Wakes a thread blocked in {@link #transferAndFlush}'s {@code sendfile}, which the socket's
   * close would not: the JDK defers closing a socket's descriptor while a system call uses it,
   * and {@code sendfile} on a peer that reads nothing would never return.
   */
  private void wakeTransfer() {
    if (transferring) {
      try {
        socket.shutdownOutput();
      } catch (IOException ignored) {
        // Closed already: the transfer has failed.
      }
    }
  }

  /** The socket's peer, for logs. */
  public String peer() {
    return String.valueOf(socket.getRemoteSocketAddress());
  }

  /** Closing the stream closes nothing: the socket's owner closes the socket. */
  @Override
  public void close() throws IOException {
    flush();
  }
}
