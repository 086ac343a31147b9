package dev.ferry.proxy.engine.io;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLSocket;

/**
 * The buffered input side of one socket, shared by the head parser and the body streams that
 * follow it on the same connection.
 *
 * <p>Memory: the buffer is taken from {@link ConnectionBuffers} when bytes arrive and given
 * back by {@link #awaitData} while the connection waits for its next message, so an idle
 * keep-alive connection holds no large buffer. Timeouts: {@link #deadline(long)} bounds the
 * total time of a sequence of reads (a request head), which per-read SO_TIMEOUT alone cannot do
 * against a slowloris client.
 *
 * <p>Two kinds of timeout. On a plain socket with an {@link IoWatchdog}, reads under
 * {@link #readTimeout} or {@link #deadline} block without SO_TIMEOUT (one system call, where a
 * timed read costs the JDK a poll and, on Java 17, two mode switches of the channel) and the
 * watchdog ends a read still blocked past its deadline by shutting the input down: the read
 * then fails with {@link SocketTimeoutException} and the input is over, while the output stays
 * open for an answer. Where a connection must survive a timeout (a tunnel that goes on reading,
 * a wait before parking), {@link #recoverableTimeout} and {@link #awaitData} use SO_TIMEOUT.
 * TLS sockets always use SO_TIMEOUT.
 *
 * <p>Size: over 600 lines because every reading mode (heads, bodies, spooling, the two kinds of
 * deadline, parking) works on the same buffer, position and limit; split, they would share them
 * through accessors on the hot path.
 */
public final class ConnectionInput extends InputStream {
  private final Socket socket;
  private final InputStream in;
  private final int bufferSize;
  private final ReadTimeouts timeouts;
  private byte[] buffer;
  /** What the buffer's growth took from {@link #budget}; given back when the buffer is dropped. */
  private final AtomicLong budgeted = new AtomicLong();
  private ByteBudget budget;
  private byte[] lineScratch;
  /**
   * Bytes of the stream that come after those buffered and before the socket's: a request body
   * received on disk before its exchange (see {@link #spoolTo}); null when there are none.
   */
  private BodySpool spool;
  private int pos;
  private int limit;
  private long bytesRead;
  private long lastReadNanos;

  /** An input whose reads all use SO_TIMEOUT. */
  public ConnectionInput(Socket socket, int bufferSize) throws IOException {
    this(socket, bufferSize, null);
  }

  /**
   * @param watchdog bounds reads of a plain socket without SO_TIMEOUT; ignored for a TLS socket
   *     or one without a channel; null makes every read use SO_TIMEOUT
   */
  public ConnectionInput(Socket socket, int bufferSize, IoWatchdog watchdog) throws IOException {
    this.socket = socket;
    this.in = socket.getInputStream();
    this.bufferSize = bufferSize;
    this.timeouts = new ReadTimeouts(socket,
        socket instanceof SSLSocket || socket.getChannel() == null ? null : watchdog);
  }

  /**
   * Sets the timeout of each read from now on, when no deadline is set; 0 waits forever. A
   * timeout ends the input (see the class comment).
   */
  public void readTimeout(int millis) {
    timeouts.readTimeout(millis);
  }

  /**
   * Bounds every read from now until {@link #readTimeout} is called again. Passing the deadline
   * ends the input.
   */
  public void deadline(long deadlineNanos) {
    timeouts.deadline(deadlineNanos);
  }

  /**
   * Sets the timeout of each read from now on as SO_TIMEOUT, so that a read that times out leaves
   * the connection usable for the next one (a tunnel, a lingering close).
   */
  public void recoverableTimeout(int millis) {
    timeouts.recoverableTimeout(millis);
  }

  /**
   * Waits until at least one byte is buffered, with the given timeout. With {@code lean}, the
   * buffer is dropped while waiting. Returns false at end of stream.
   *
   * @throws SocketTimeoutException if nothing arrived in time; the connection stays usable
   */
  public boolean awaitData(int timeoutMillis, boolean lean) throws IOException {
    if (hasBuffered()) {
      return true;
    }
    if (timeouts.watchable() && in.available() > 0) {
      // Bytes wait in the socket already (a new connection's first request, usually): one
      // untimed read takes them, where a timed one costs four fcntl on Java 17's channel socket.
      return fill(true);
    }
    if (!lean && buffer != null) {
      recoverableTimeout(timeoutMillis);
      return fill();
    }
    lineScratch = null;
    if (buffer != null) {
      dropEmptyBuffer();
    }
    recoverableTimeout(timeoutMillis);
    timeouts.soTimeout(timeoutMillis);
    int first = in.read();
    if (first < 0) {
      return false;
    }
    received(1);
    buffer = ConnectionBuffers.take(bufferSize);
    buffer[0] = (byte) first;
    limit = 1;
    int available = in.available();
    if (available > 0) {
      int n = in.read(buffer, 1, Math.min(available, bufferSize - 1));
      if (n > 0) {
        limit += n;
        received(n);
      }
    }
    return true;
  }

  /** Reads the buffered bytes, not yet read, without taking them: what a caller scans them with. */
  public interface BufferedScan {
    /** Returns the scan's verdict on {@code bytes[from, to)}, which it must not change. */
    boolean scan(byte[] bytes, int from, int to);
  }

  /** Applies {@code scan} to the bytes buffered and not yet read (none: an empty range). */
  public boolean scanBuffered(BufferedScan scan) {
    return scan.scan(buffer == null ? new byte[0] : buffer, pos, limit);
  }

  /** Measures the buffered bytes, not yet read, without taking them. */
  public interface BufferedMeasure {
    /** Returns the measure of {@code bytes[from, to)}, which it must not change. */
    long measure(byte[] bytes, int from, int to);
  }

  /** Applies {@code measure} to the bytes buffered and not yet read (none: an empty range). */
  public long measureBuffered(BufferedMeasure measure) {
    return measure.measure(buffer == null ? new byte[0] : buffer, pos, limit);
  }

  /**
   * Makes room to buffer more bytes after those buffered, which stay: moves them to the
   * buffer's start, and grows a full buffer, doubling, up to {@code maxBufferBytes} (a head
   * larger than the buffer, a body awaited whole). Growth is taken from {@code budget} when one
   * is given (null: not counted), and given back when the grown buffer is dropped or by
   * {@link #release()}. Returns false if the buffer is full and may not grow.
   */
  public boolean makeRoom(int maxBufferBytes, ByteBudget budget) {
    if (buffer == null) {
      buffer = ConnectionBuffers.take(bufferSize);
    }
    if (pos > 0) {
      System.arraycopy(buffer, pos, buffer, 0, limit - pos);
      limit -= pos;
      pos = 0;
    }
    if (limit < buffer.length) {
      return true;
    }
    if (buffer.length >= maxBufferBytes) {
      return false;
    }
    int wanted = (int) Math.min(maxBufferBytes, 2L * buffer.length);
    if (budget == null) {
      byte[] old = buffer;
      buffer = Arrays.copyOf(old, wanted);
      giveBack(old);
      return true;
    }
    int size = GrowthBuffers.sizeFor(wanted);
    if (!budget.tryTake(size - buffer.length)) {
      return false;
    }
    this.budget = budget;
    budgeted.addAndGet(size - buffer.length);
    byte[] grown = GrowthBuffers.take(wanted);
    System.arraycopy(buffer, 0, grown, 0, limit);
    giveBack(buffer);
    buffer = grown;
    return true;
  }

  /**
   * Waits up to {@code timeoutMillis} for more bytes and appends them to those buffered, in the
   * room {@link #makeRoom} made. Returns false at end of stream.
   *
   * @throws SocketTimeoutException if nothing arrived in time; the connection stays usable
   */
  public boolean awaitMore(int timeoutMillis) throws IOException {
    recoverableTimeout(timeoutMillis);
    if (spooling()) {
      return awaitIntoSpool();
    }
    int n = readSocket(buffer, limit, buffer.length - limit);
    if (n <= 0) {
      return false;
    }
    limit += n;
    received(n);
    return true;
  }

  /**
   * From now on the bytes {@link #awaitMore} receives go to {@code spool}, after those buffered,
   * in the room {@link #makeSpoolRoom} makes, until {@link #endSpooling()}; reads take the
   * buffered bytes, then the spooled ones, then the socket's. The spool is closed once read,
   * when it ends with nothing in it, or by {@link #release()}.
   */
  public void spoolTo(BodySpool spool) {
    this.spool = spool;
  }

  /** True while a spool receives this input's bytes. */
  public boolean spooling() {
    return spool != null && spool.receiving();
  }

  /**
   * The request a spool received bytes for goes to its exchange: the spool takes no more, and
   * one that got none (its wait ended first, or the disk budget had no room) goes now.
   */
  public void endSpooling() {
    if (spool != null) {
      spool.endReceiving();
      if (spool.unread() == 0) {
        discardSpool();
      }
    }
  }

  /**
   * Makes room in the spool for more bytes, at most {@code wanted} (the rest of a body of known
   * length: then no byte of the next request goes to the spool); false if its disk budget has
   * none. Bytes that do go past a body's end come back to memory by {@link #unspoolRest()}.
   */
  public boolean makeSpoolRoom(long wanted) {
    return spool.makeRoom(wanted);
  }

  private boolean awaitIntoSpool() throws IOException {
    byte[] scratch = CopyBuffers.take();
    try {
      int n = readSocket(scratch, 0, Math.min(scratch.length, spool.room()));
      if (n <= 0) {
        return false;
      }
      try {
        spool.append(scratch, 0, n);
      } catch (IOException e) {
        throw new SpoolWriteException(e);
      }
      received(n);
      return true;
    } finally {
      CopyBuffers.give(scratch);
    }
  }

  /**
   * The connection is over, or leaves this input for another: gives back what the buffer's
   * growth took from its budget, and closes a spool, with whatever it still holds.
   */
  public void release() {
    giveBackBudget();
    discardSpool();
  }

  /**
   * Moves what a spool still holds once its body has been read (the start of the next request,
   * read with the body's last bytes) into memory, where the next head is scanned: the buffer
   * grows for it if it must (it is less than one read of the spool's). The spool is then gone.
   */
  public void unspoolRest() throws IOException {
    if (spool == null || spool.receiving() || spool.unread() == 0) {
      return;
    }
    while (spooled() > 0) {
      makeRoom((int) Math.min(Integer.MAX_VALUE, limit - pos + spooled()), null);
      limit += readSpool(buffer, limit, buffer.length - limit, null);
    }
  }

  /**
   * Closes a spool with whatever it still holds: the connection will read no request body again
   * (it is over, or only drains what the client still sends before it closes).
   */
  public void discardSpool() {
    BodySpool spooled = spool;
    if (spooled != null) {
      spool = null;
      spooled.close();
    }
  }

  /** Gives back what the buffer's growth took from a budget (see {@link #makeRoom}). */
  private void giveBackBudget() {
    long taken = budgeted.getAndSet(0);
    if (taken > 0) {
      budget.give(taken);
    }
  }

  /**
   * Drops a buffer grown past its size (for a large head, or a body awaited whole), once nothing
   * in it is left to read.
   */
  public void trimBuffer() {
    if (buffer != null && buffer.length > bufferSize && pos == limit) {
      dropEmptyBuffer();
    }
  }

  /**
   * Waits until at least one byte is buffered or {@code deadlineNanos} passes, keeping the
   * buffer. Returns false at end of stream.
   *
   * @throws SocketTimeoutException if nothing arrived in time; the input is then over
   */
  public boolean awaitDataUntil(long deadlineNanos) throws IOException {
    deadline(deadlineNanos);
    return hasBuffered() || fill();
  }

  /**
   * Returns true if the peer is quiet: nothing arrives within a millisecond and the connection is
   * neither closed nor reset. A byte that does arrive is consumed, which is fine: a connection
   * that received unasked bytes is discarded.
   */
  public boolean probeQuiet() {
    if (hasBuffered()) {
      return false;
    }
    try {
      timeouts.soTimeout(1);
      in.read();
      return false;
    } catch (SocketTimeoutException e) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * True if the peer has gone: the connection reached its end or was reset, as one read waiting
   * two milliseconds finds. Bytes that arrived (a pipelined request) are kept, buffered; so is the
   * connection: a quiet peer is not gone. Past bytes already buffered (a request body held
   * whole) the read appends to them, where the buffer has room and nothing is spooled after
   * them; otherwise nothing can be told and the peer is taken as there (probe v36: a POST whose
   * body was buffered was sent on after its client left).
   */
  public boolean peerGone() {
    try {
      if (hasBuffered()) {
        boolean room = buffer != null && limit < buffer.length && spool == null;
        return room && !awaitMore(2);
      }
      // 2: a timeout of 1 ms has run out by the time the read is armed.
      return !awaitData(2, false);
    } catch (SocketTimeoutException quiet) {
      return false;
    } catch (IOException e) {
      return true;
    }
  }

  /** A copy of the bytes buffered and not yet read, which stay buffered. */
  public byte[] peekBuffered() {
    return buffer == null ? new byte[0] : Arrays.copyOfRange(buffer, pos, limit);
  }

  /**
   * The bytes buffered and not yet read, which are taken out of the buffer (a grown one is then
   * dropped: a tunnel that takes them may stay open for long).
   */
  public byte[] takeBuffered() throws IOException {
    unspoolRest();
    byte[] taken = peekBuffered();
    pos = limit;
    trimBuffer();
    return taken;
  }

  /**
   * A scratch array for the head parser's lines, kept with the connection so that parsing a head
   * allocates none; dropped with the buffer.
   */
  public byte[] lineScratch() {
    if (lineScratch == null) {
      lineScratch = new byte[256];
    }
    return lineScratch;
  }

  /** Drops the buffer while nothing is buffered, so a parked connection holds none. */
  public void dropBuffer() {
    lineScratch = null;
    if (pos == limit) {
      dropEmptyBuffer();
    }
  }

  /**
   * Drops the buffer, which holds nothing unread, on the connection's own thread: it goes back to
   * its pool (no other thread can still be using it), and its budget is given back.
   */
  private void dropEmptyBuffer() {
    byte[] dropped = buffer;
    buffer = null;
    pos = 0;
    limit = 0;
    giveBack(dropped);
    giveBackBudget();
  }

  /**
   * Gives an array this input no longer uses (if any) to the pool of its size: the connection
   * buffers' or the growth buffers'; each keeps only its own sizes.
   */
  private static void giveBack(byte[] dropped) {
    if (dropped != null) {
      ConnectionBuffers.give(dropped);
      GrowthBuffers.give(dropped);
    }
  }

  /**
   * The connection is over and no thread but the caller's, its last user, will touch this input
   * again: its buffer goes back to the pool, whatever it still held.
   */
  public void recycle() {
    lineScratch = null;
    dropEmptyBuffer();
  }

  /**
   * Has the watchdog run {@code action} once, on its thread, at {@code atNanos} (up to a sweep
   * late), unless {@link #cancelLongWait} comes first: work that only a read waiting longer than
   * usual is worth, at no cost to reads that end sooner. The action must not block. Returns
   * false, and does nothing, for an input whose reads the watchdog does not see (TLS, SO_TIMEOUT
   * reads, no watchdog).
   */
  public boolean onLongWait(Runnable action, long atNanos) {
    return timeouts.onLongWait(action, atNanos);
  }

  /** Drops the action {@link #onLongWait} set, if it has not run. */
  public void cancelLongWait() {
    timeouts.cancelLongWait();
  }

  /**
   * Ends this input from another thread: a read blocked now returns the end of the stream, and
   * so does every read after it. For an exchange abandoned while it waits for its peer; the
   * connection is closed afterwards, never reused.
   */
  public void abandon() {
    try {
      socket.shutdownInput();
    } catch (IOException ignored) {
      // Closed meanwhile: no read is left to end.
    }
  }

  /**
   * Takes this input out of the watchdog's sweep until its next watched read, for a connection
   * that waits elsewhere (parked on a selector) and may stay idle for long.
   */
  public void unwatch() {
    timeouts.unwatch();
  }

  /**
   * How many bytes wait in the socket beyond those buffered (the kernel's count on a plain
   * socket, decrypted ones on TLS); 0 if it cannot tell.
   */
  public int socketAvailable() {
    try {
      return in.available();
    } catch (IOException e) {
      return 0;
    }
  }

  /** Returns true if bytes are buffered (in memory or spooled) and can be read without blocking. */
  public boolean hasBuffered() {
    return pos < limit || spooled() > 0;
  }

  /**
   * When nothing is buffered, takes in what already waits in the socket, without waiting: an
   * upstream's answer that came while its request's body was still being sent. True if bytes are
   * buffered afterwards.
   */
  public boolean takeWaiting() throws IOException {
    if (!hasBuffered() && in.available() > 0) {
      fill(true);
    }
    return hasBuffered();
  }

  /** True if bytes wait in the socket beyond those buffered. */
  public boolean socketHasMore() throws IOException {
    return in.available() > 0;
  }

  /**
   * Appends what waits in the socket to the bytes buffered, without waiting (call when
   * {@link #socketHasMore}); false if the buffer is full, which this does not grow.
   */
  public boolean takeMore() throws IOException {
    if (!makeRoom(buffer == null ? bufferSize : buffer.length, null)) {
      return false;
    }
    timeouts.soTimeout(0);
    int n = in.read(buffer, limit, buffer.length - limit);
    if (n <= 0) {
      return false;
    }
    limit += n;
    received(n);
    return true;
  }

  /** The spooled bytes not yet read. */
  private long spooled() {
    return spool == null ? 0 : spool.unread();
  }

  /**
   * Reads spooled bytes into {@code target} (an array's range, or a buffer when {@code array}
   * is null); closes the spool once it has given its last.
   */
  private int readSpool(byte[] array, int offset, int length, ByteBuffer target) throws IOException {
    int n = array != null ? spool.read(array, offset, length) : spool.read(target);
    if (spool.unread() == 0 && !spool.receiving()) {
      discardSpool();
    }
    return n;
  }

  /** Reads one byte, or -1 at end of stream. */
  @Override
  public int read() throws IOException {
    if (pos == limit && !fill()) {
      return -1;
    }
    return buffer[pos++] & 0xff;
  }

  /** Flag in {@link #moveLine}'s result: the line's LF was reached (and consumed). */
  public static final int LINE_ENDED = 1 << 30;

  /**
   * Moves the bytes before the next LF into {@code target} from {@code offset}, at most
   * {@code room} of them, scanning the buffer rather than handing over a byte at a time; reads
   * when nothing is buffered. Returns the number moved, with {@link #LINE_ENDED} set if the LF
   * came next (it is consumed, never moved), so {@code room} 0 asks only whether the line ends.
   *
   * @throws EOFException at end of stream
   */
  public int moveLine(byte[] target, int offset, int room) throws IOException {
    if (pos == limit && !fill()) {
      throw new EOFException("connection closed by peer");
    }
    int start = pos;
    int end = Math.min(limit, start + room);
    int i = start;
    while (i < end && buffer[i] != '\n') {
      i++;
    }
    int moved = i - start;
    System.arraycopy(buffer, start, target, offset, moved);
    if (i < limit && buffer[i] == '\n') {
      pos = i + 1;
      return moved | LINE_ENDED;
    }
    pos = i;
    return moved;
  }

  /**
   * Event loop: reads what a non-blocking channel has into the buffer, after the bytes buffered.
   * Returns the bytes read, 0 if none came or the buffer is full, -1 at end of stream.
   */
  public int fillNonBlocking(java.nio.channels.SocketChannel channel) throws IOException {
    if (buffer == null) {
      buffer = ConnectionBuffers.take(bufferSize);
      pos = 0;
      limit = 0;
    }
    if (pos == limit) {
      pos = 0;
      limit = 0;
    } else if (limit == buffer.length && pos > 0) {
      System.arraycopy(buffer, pos, buffer, 0, limit - pos);
      limit -= pos;
      pos = 0;
    }
    if (limit == buffer.length) {
      return 0;
    }
    int n = channel.read(java.nio.ByteBuffer.wrap(buffer, limit, buffer.length - limit));
    if (n > 0) {
      limit += n;
      received(n);
    }
    return n;
  }

  /** Event loop: moves up to {@code max} buffered bytes into {@code target}, reading nothing. */
  public int takeBuffered(java.nio.ByteBuffer target, long max) {
    int n = (int) Math.min(Math.min(limit - pos, target.remaining()), max);
    target.put(buffer, pos, n);
    pos += n;
    return n;
  }

  /** Event loop: where the buffered bytes start, for {@link #rewindTo}. */
  public int bufferPos() {
    return pos;
  }

  /**
   * Event loop: goes back to {@code mark}, a {@link #bufferPos} taken since the last read, so
   * that a head parsed from the buffer can be parsed again by the thread it is handed to.
   */
  public void rewindTo(int mark) {
    pos = mark;
  }

  /** Reads one byte, failing at end of stream. */
  public int readByte() throws IOException {
    if (pos == limit && !fill()) {
      throw new EOFException("connection closed by peer");
    }
    return buffer[pos++] & 0xff;
  }

  @Override
  public int read(byte[] target, int offset, int length) throws IOException {
    if (length == 0) {
      return 0;
    }
    if (pos == limit) {
      if (spooled() > 0) {
        return readSpool(target, offset, length, null);
      }
      if (length >= bufferSize) {
        // Large reads bypass the buffer; nothing is left in it to keep in order.
        int n = readSocket(target, offset, length);
        if (n > 0) {
          received(n);
        }
        return n;
      }
      if (!fill()) {
        return -1;
      }
    }
    int n = Math.min(length, limit - pos);
    System.arraycopy(buffer, pos, target, offset, n);
    pos += n;
    return n;
  }

  /** The bytes buffered, in memory and spooled, and not yet read (at most Integer.MAX_VALUE). */
  @Override
  public int available() {
    return (int) Math.min(Integer.MAX_VALUE, buffered());
  }

  /** The bytes buffered, in memory and spooled, and not yet read. */
  public long buffered() {
    return limit - pos + spooled();
  }

  /** Total bytes received on this connection. */
  public long bytesRead() {
    return bytesRead;
  }

  /**
   * When bytes last came from the socket ({@code System.nanoTime()}), 0 before any: a request
   * buffered while the one before it was served (pipelined) arrived then at the latest.
   */
  public long lastReadNanos() {
    return lastReadNanos;
  }

  private void received(int n) {
    bytesRead += n;
    lastReadNanos = System.nanoTime();
  }

  private boolean fill() throws IOException {
    return fill(false);
  }

  /**
   * @param ready bytes are known to wait in the socket: a plain read takes them, with no timeout
   *     or deadline armed (such a read cannot block)
   */
  private boolean fill(boolean ready) throws IOException {
    if (buffer == null) {
      buffer = ConnectionBuffers.take(bufferSize);
    }
    pos = 0;
    limit = 0;
    int n;
    if (spooled() > 0) {
      limit = readSpool(buffer, 0, bufferSize, null);
      return true;
    }
    if (ready) {
      timeouts.soTimeout(0);
      n = in.read(buffer, 0, bufferSize);
    } else {
      n = readSocket(buffer, 0, bufferSize);
    }
    if (n <= 0) {
      return false;
    }
    limit = n;
    received(n);
    return true;
  }

  /** One read from the socket under the current timeout or deadline. */
  private int readSocket(byte[] target, int offset, int length) throws IOException {
    if (!timeouts.arm()) {
      return in.read(target, offset, length);
    }
    try {
      return timeouts.end(in.read(target, offset, length));
    } catch (IOException e) {
      throw timeouts.failure(e);
    } finally {
      timeouts.done();
    }
  }

  /**
   * True if {@link #read(ByteBuffer)} can read this input's socket through its channel: a plain
   * socket whose reads are watched. Channel reads ignore SO_TIMEOUT, so only watched reads have
   * a deadline.
   */
  public boolean readsChannel() {
    return timeouts.readsChannel();
  }

  /**
   * Reads into {@code target} (a direct buffer, so that the JDK copies nothing through the
   * heap): the bytes still buffered first, then from the socket's channel under the current
   * timeout or deadline. Returns -1 at end of stream. Only when {@link #readsChannel()}.
   *
   * <p>When the buffered bytes do not fill {@code target} and more already wait in the kernel,
   * one call takes both: the part of a body that came with its head and the rest of it then
   * leave in one write, not two, each waking the reader (a relayed 100 KiB answer took three
   * writes; now one). Bytes not yet there are not waited for: what is buffered goes on at once.
   */
  public int read(ByteBuffer target) throws IOException {
    if (pos < limit) {
      int n = Math.min(target.remaining(), limit - pos);
      target.put(buffer, pos, n);
      pos += n;
      if (target.hasRemaining() && pos == limit && spooled() == 0 && socketAvailable() > 0) {
        n += Math.max(0, readChannel(target));
      }
      return n;
    }
    if (spooled() > 0) {
      return readSpool(null, 0, 0, target);
    }
    return readChannel(target);
  }

  /** One read from the socket into {@code target} under the current timeout or deadline. */
  private int readChannel(ByteBuffer target) throws IOException {
    if (!timeouts.arm()) {
      // The watchdog stopped meanwhile (the proxy is stopping): read as a stream, under SO_TIMEOUT.
      byte[] bytes = new byte[Math.min(target.remaining(), bufferSize)];
      int n = in.read(bytes, 0, bytes.length);
      if (n > 0) {
        target.put(bytes, 0, n);
        received(n);
      }
      return n;
    }
    int n;
    try {
      n = timeouts.end(socket.getChannel().read(target));
    } catch (IOException e) {
      throw timeouts.failure(e);
    } finally {
      timeouts.done();
    }
    if (n > 0) {
      received(n);
    }
    return n;
  }

  /** Closing the stream closes nothing: the socket's owner closes the socket. */
  @Override
  public void close() {}
}
