import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/**
 * Idle keep-alive probe for compare.sh: opens COUNT connections to a server on 127.0.0.1, sends
 * one GET on each, holds the answered ones idle for HOLD seconds, then sends one more GET on each
 * and counts the answers. Reports the server's resident memory (summed over PIDS) before the
 * connections and at the end of the hold, so the difference divided by the held connections is
 * the memory an idle connection costs.
 *
 * <p>Usage (Java 17 source launcher, no build needed):
 * {@code java IdleProbe.java PORT COUNT HOLD_SECONDS PATH PID[,PID...] [JCMD]}. With JCMD the
 * server is a JVM and gets a {@code GC.run} before each memory reading, so RSS shows live memory
 * rather than garbage.
 *
 * <p>One thread and one selector drive every connection, so a server that stalls some of them
 * (a full thread pool queues connections it never reads) costs a bounded wait, not one timeout
 * after another. Everything is bounded: {@link #ANSWER_TIMEOUT_NANOS} per first answer, a
 * deadline for each phase.
 */
public final class IdleProbe {
  /** How many connections are opening or waiting for their first answer at once. */
  private static final int IN_FLIGHT = 128;
  /** A connection that got no first answer within this is counted as "no answer" and closed. */
  private static final long ANSWER_TIMEOUT_NANOS = 2_000_000_000L;
  private static final long OPEN_PHASE_NANOS = 120_000_000_000L;
  private static final long ANSWER_PHASE_NANOS = 30_000_000_000L;

  private final int port;
  private final byte[] request;
  private final Selector selector;
  private int refused;
  private int noAnswer;
  private int shed;
  private int closedAfterHold;
  private int silentAfterHold;

  private IdleProbe(int port, String path) throws IOException {
    this.port = port;
    this.request = ("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .getBytes(StandardCharsets.ISO_8859_1);
    this.selector = Selector.open();
  }

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    int count = Integer.parseInt(args[1]);
    int holdSeconds = Integer.parseInt(args[2]);
    String path = args[3];
    long[] pids = java.util.Arrays.stream(args[4].split(",")).mapToLong(Long::parseLong).toArray();
    String jcmd = args.length > 5 ? args[5] : null;

    IdleProbe probe = new IdleProbe(port, path);
    gc(jcmd, pids);
    long rssBefore = rssKb(pids);
    List<Exchange> held = probe.open(count);
    long heldAt = System.nanoTime();
    gc(jcmd, pids);
    long remaining = holdSeconds * 1_000_000_000L - (System.nanoTime() - heldAt);
    if (remaining > 0) {
      Thread.sleep(remaining / 1_000_000);
    }
    long rssHeld = rssKb(pids);
    int answered = probe.askAgain(held);
    for (Exchange exchange : held) {
      exchange.close();
    }
    // Divided by the connections the server still kept at the end of the hold, not by those it
    // answered once: a server that sheds idle connections must not look cheap per connection.
    int kept = held.size() - probe.closedAfterHold;
    double perConnection = kept == 0 ? 0 : (rssHeld - rssBefore) / (double) kept;
    System.out.printf(Locale.ROOT,
        "held=%d answered=%d closed_after_hold=%d silent_after_hold=%d shed=%d refused=%d"
            + " no_answer=%d rss_before_kb=%d rss_held_kb=%d kib_per_connection=%.1f%n",
        held.size(), answered, probe.closedAfterHold, probe.silentAfterHold, probe.shed,
        probe.refused, probe.noAnswer, rssBefore, rssHeld, perConnection);
  }

  /** Phase 1: opens up to COUNT connections, IN_FLIGHT at a time; returns the answered ones. */
  private List<Exchange> open(int count) throws IOException {
    List<Exchange> held = new ArrayList<>(count);
    List<Exchange> inFlight = new ArrayList<>();
    long deadline = System.nanoTime() + OPEN_PHASE_NANOS;
    int started = 0;
    while ((started < count || !inFlight.isEmpty()) && System.nanoTime() < deadline) {
      while (started < count && inFlight.size() < IN_FLIGHT) {
        started++;
        try {
          inFlight.add(connect());
        } catch (IOException e) {
          refused++;
          if (String.valueOf(e.getMessage()).contains("Too many open files")) {
            refused += count - started; // the probe's own limit: nothing more will open
            started = count;
          }
        }
      }
      pump(100);
      for (Iterator<Exchange> it = inFlight.iterator(); it.hasNext(); ) {
        Exchange exchange = it.next();
        if (exchange.state == State.ANSWERED) {
          held.add(exchange);
          it.remove();
        } else if (exchange.state == State.SHED) {
          shed++;
          exchange.close();
          it.remove();
        } else if (exchange.state == State.FAILED) {
          refused++;
          exchange.close();
          it.remove();
        } else if (System.nanoTime() - exchange.startedAt > ANSWER_TIMEOUT_NANOS) {
          noAnswer++;
          exchange.close();
          it.remove();
        }
      }
    }
    noAnswer += inFlight.size() + (count - started);
    inFlight.forEach(Exchange::close);
    return held;
  }

  /**
   * Phase 3: one more GET on every held connection, IN_FLIGHT at a time, so that this checks each
   * connection still works rather than how the server takes a burst of COUNT requests at once.
   * Returns how many were answered in time.
   */
  private int askAgain(List<Exchange> held) throws IOException {
    long deadline = System.nanoTime() + ANSWER_PHASE_NANOS;
    int next = 0;
    int waiting = 0;
    while ((next < held.size() || waiting > 0) && System.nanoTime() < deadline) {
      for (; next < held.size() && waiting < IN_FLIGHT; next++) {
        Exchange exchange = held.get(next);
        try {
          if (exchange.state == State.ANSWERED) { // not closed by the server while held
            exchange.send();
            waiting++;
          }
        } catch (IOException e) {
          exchange.state = State.FAILED;
        }
      }
      pump(100);
      waiting = (int) held.subList(0, next).stream().filter(e -> e.state == State.WAITING).count();
    }
    closedAfterHold = (int) held.stream().filter(e -> e.state == State.FAILED).count();
    silentAfterHold = held.size() - next + waiting;
    return (int) held.subList(0, next).stream()
        .filter(e -> e.state == State.ANSWERED || e.state == State.SHED).count();
  }

  private Exchange connect() throws IOException {
    SocketChannel channel = SocketChannel.open();
    Exchange exchange = new Exchange(channel);
    try {
      channel.configureBlocking(false);
      // Closing with RST leaves no TIME_WAIT behind, so repeated probes don't run out of ports.
      channel.setOption(StandardSocketOptions.SO_LINGER, 0);
      if (channel.connect(new InetSocketAddress("127.0.0.1", port))) {
        exchange.send();
      } else {
        channel.register(selector, SelectionKey.OP_CONNECT, exchange);
      }
      return exchange;
    } catch (IOException e) {
      exchange.close();
      throw e;
    }
  }

  private void pump(long timeoutMillis) throws IOException {
    selector.select(timeoutMillis);
    for (SelectionKey key : selector.selectedKeys()) {
      Exchange exchange = (Exchange) key.attachment();
      try {
        if (key.isValid() && key.isConnectable()) {
          exchange.channel.finishConnect();
          exchange.send();
        } else if (key.isValid() && key.isReadable()) {
          exchange.read();
        }
      } catch (IOException e) {
        exchange.state = State.FAILED;
        key.cancel();
      }
    }
    selector.selectedKeys().clear();
  }

  /** SHED: answered, but with {@code Connection: close}, so not kept for a next request. */
  private enum State { WAITING, ANSWERED, SHED, FAILED }

  /** One connection and its current request: the response is complete at head + Content-Length. */
  private final class Exchange {
    final SocketChannel channel;
    final long startedAt = System.nanoTime();
    ByteBuffer in = ByteBuffer.allocate(4096);
    State state = State.WAITING;

    Exchange(SocketChannel channel) {
      this.channel = channel;
    }

    void send() throws IOException {
      state = State.WAITING;
      in.clear();
      ByteBuffer out = ByteBuffer.wrap(request);
      while (out.hasRemaining()) { // a few dozen bytes on an idle socket: never blocks for long
        channel.write(out);
      }
      channel.register(selector, SelectionKey.OP_READ, this);
    }

    void read() throws IOException {
      if (!in.hasRemaining()) {
        in = ByteBuffer.allocate(in.capacity() * 2).put(in.flip());
      }
      if (channel.read(in) < 0) {
        state = State.FAILED;
        channel.register(selector, 0, this);
        return;
      }
      String head = new String(in.array(), 0, in.position(), StandardCharsets.ISO_8859_1);
      int end = head.indexOf("\r\n\r\n");
      if (end < 0) {
        return;
      }
      int length = 0;
      boolean close = false;
      for (String line : head.substring(0, end).split("\r\n")) {
        if (line.regionMatches(true, 0, "Content-Length:", 0, 15)) {
          length = Integer.parseInt(line.substring(15).trim());
        } else if (line.regionMatches(true, 0, "Connection:", 0, 11)) {
          close = line.toLowerCase(Locale.ROOT).contains("close");
        }
      }
      if (in.position() >= end + 4 + length) {
        boolean ok = head.startsWith("HTTP/1.1 2");
        state = !ok ? State.FAILED : close ? State.SHED : State.ANSWERED;
        ok &= !close;
        // While held, keep watching for reads: a server that closes the connection shows up as a
        // failed second request rather than as a hang.
        channel.register(selector, ok ? SelectionKey.OP_READ : 0, this);
      }
    }

    void close() {
      try {
        channel.close();
      } catch (IOException ignored) { // closing a probe socket: nothing to do about it
      }
    }
  }

  private static void gc(String jcmd, long[] pids) throws Exception {
    if (jcmd == null) {
      return;
    }
    new ProcessBuilder(jcmd, Long.toString(pids[0]), "GC.run")
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .start().waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
  }

  private static long rssKb(long[] pids) throws IOException {
    long sum = 0;
    for (long pid : pids) {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith("VmRSS:")) {
          sum += Long.parseLong(line.replaceAll("\\D", ""));
        }
      }
    }
    return sum;
  }
}
