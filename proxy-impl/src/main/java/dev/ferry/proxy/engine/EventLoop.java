package dev.ferry.proxy.engine;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.Headers;
import dev.ferry.proxy.ProxyConfig;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.engine.http1.ChunkedProgress;
import dev.ferry.proxy.engine.http1.Framing;
import dev.ferry.proxy.engine.http1.HeadParser;
import dev.ferry.proxy.engine.http1.HeadScan;
import dev.ferry.proxy.engine.http1.HopByHop;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.RequestHead;
import dev.ferry.proxy.engine.http1.ResponseHead;
import dev.ferry.proxy.engine.io.ConnectionInput;
import dev.ferry.proxy.engine.route.LiveEndpoint;
import dev.ferry.proxy.engine.route.LiveRoute;
import dev.ferry.proxy.engine.trace.RequestIds;
import dev.ferry.proxy.engine.trace.TraceContext;
import dev.ferry.proxy.engine.upstream.DestinationCheck;
import dev.ferry.proxy.engine.upstream.Target;
import dev.ferry.proxy.engine.upstream.UpstreamFields;
import dev.ferry.proxy.engine.upstream.UpstreamHooks;
import dev.ferry.proxy.engine.upstream.UpstreamKey;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PROTOTYPE (branch loop-prototype, not for main): runs a reverse proxy's plain GET and HEAD
 * exchanges on one selector thread, to measure what an event-loop core with Ferry's HTTP work
 * (its head parser, the upstream fields, the client framing, the tally) reaches against the
 * blocking model. Engaged with {@code -Dferry.loop=true} on a reverse proxy without filters,
 * cache, listeners or TLS. Missing, and needed before it could serve users: timeouts of every
 * kind, retries and the stale-connection resend, the pool's admission and connection limits,
 * error pages, access log and listeners, requests with bodies, 1xx and upgrades, trailers'
 * filtering, the graceful stop, and the hand-over to the blocking path for everything else
 * (it answers 501 instead).
 */
final class EventLoop implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(EventLoop.class);

  static boolean wanted(RealProxyServer server) {

    ProxyConfig config = server.configuration();
    return Boolean.getBoolean("ferry.loop") && config.isReverse() && server.serverTls() == null
        && config.cache().isEmpty()
        && server.pipeline().filters().isEmpty();
  }

  private final RealProxyServer server;
  private final Listener listener;
  private final Selector selector;
  private final Queue<SocketChannel> arrivals = new ConcurrentLinkedQueue<>();
  private final Map<UpstreamKey, ArrayDeque<Upstream>> idle = new HashMap<>();
  private final Thread thread;
  private volatile boolean running = true;

  EventLoop(RealProxyServer server, Listener listener) throws IOException {
    this.server = server;
    this.listener = listener;
    this.selector = Selector.open();
    this.thread = new Thread(this, "ferry-loop");
    thread.setDaemon(true);
    thread.start();
  }

  void take(SocketChannel channel) {
    arrivals.add(channel);
    selector.wakeup();
  }

  void close() {
    running = false;
    selector.wakeup();
  }

  @Override
  public void run() {
    while (running) {
      try {
        selector.select(250);
        SocketChannel channel;
        while ((channel = arrivals.poll()) != null) {
          try {
            channel.configureBlocking(false);
            Client client = new Client(channel);
            client.key = channel.register(selector, SelectionKey.OP_READ, client);
          } catch (IOException e) {
            closeQuietly(channel);
            listener.releasePermit();
          }
        }
        for (Iterator<SelectionKey> it = selector.selectedKeys().iterator(); it.hasNext(); ) {
          SelectionKey key = it.next();
          it.remove();
          Object attachment = key.attachment();
          try {
            if (attachment instanceof Client client) {
              client.ready(key);
            } else {
              ((Upstream) attachment).ready(key);
            }
          } catch (IOException | CancelledKeyException e) {
            if (attachment instanceof Client client) {
              client.fail(e);
            } else {
              ((Upstream) attachment).fail(e);
            }
          }
        }
      } catch (IOException | RuntimeException e) {
        log.error("loop_failed error={}", e.toString(), e);
      }
    }
  }

  /** A client connection served on the loop. */
  private final class Client implements UpstreamHooks {
    final SocketChannel channel;
    final ConnectionInput in;
    final InetSocketAddress address;
    SelectionKey key;
    /** The client's bytes: filled by the upstream's reads, drained by writes ({@link #draining}). */
    final ByteBuffer out = ByteBuffer.allocateDirect(128 * 1024);
    boolean draining;
    final byte[] scratch = new byte[16 * 1024];
    Upstream upstream;
    RequestHead head;
    long startNanos;
    ExchangeTally tally;
    int status;
    boolean headRequest;
    boolean closeAfter;
    Request request;
    String routeName;
    String upstreamText;
    String requestId;
    String traceId;
    long bodyBytes;
    java.time.Instant startTime;

    Client(SocketChannel channel) throws IOException {
      this.channel = channel;
      this.in = new ConnectionInput(channel.socket(), 16 * 1024);
      this.address = (InetSocketAddress) channel.getRemoteAddress();
    }

    void ready(SelectionKey key) throws IOException, HttpFailureException {
      if (key.isWritable()) {
        if (!flush()) {
          return;
        }
        key.interestOps(upstream == null ? SelectionKey.OP_READ : 0);
        if (upstream != null) {
          upstream.resume();
        } else if (closeAfter) {
          end();
        } else if (in.hasBuffered()) {
          tryRequest();
        }
        return;
      }
      if (key.isReadable()) {
        int n = in.fillNonBlocking(channel);
        if (n < 0) {
          end();
          return;
        }
        tryRequest();
      }
    }

    void tryRequest() throws IOException, HttpFailureException {
      if (upstream != null || head != null) {
        return; // one exchange at a time; pipelined bytes wait
      }
      if (!in.scanBuffered((bytes, from, to) -> HeadScan.headLength(bytes, from, to) >= 0)) {
        return;
      }
      ProxyConfig config = server.configuration();
      startNanos = System.nanoTime();
      startTime = java.time.Instant.now();
      bodyBytes = 0;
      head = new HeadParser(in, config.maxRequestLineBytes(), config.maxHeaderBytes(),
          config.maxHeaderCount()).readRequest();
      tally = new ExchangeTally(server.metrics(), true);
      headRequest = head.method().equals("HEAD");
      if (!(head.method().equals("GET") || headRequest) || head.headers().contains("Content-Length")
          || head.headers().contains("Transfer-Encoding") || head.headers().contains("Upgrade")) {
        answer(501, "not in the loop prototype");
        return;
      }
      requestId = RequestIds.keepOrGenerate(head.headers(), config.requestIdHeader());
      TraceContext trace = TraceContext.continueOrStart(head.headers());
      traceId = trace.traceId();
      InboundRequest.Parsed parsed = InboundRequest.parse(head,
          config.upstream().map(u -> u.endpoints().get(0).authority()).orElse(null), true, false,
          config.maxRequestBodyBytes());
      if (parsed.refusal() != null) {
        answer(parsed.refusal().failure().status(), parsed.refusal().getMessage());
        return;
      }
      Headers.Builder fields = trace.propagate(head.headers()).set(config.requestIdHeader(), requestId);
      HopByHop.applyClientOptions(head.headers(), fields, config.requestIdHeader(), "traceparent");
      OwnFields.dropUnderscoreSpellings(head.headers(), fields, config.requestIdHeader());
      UpstreamFields.dropClientForwarding(head.headers(), fields);
      request = parsed.request().headers(fields.build()).build();
      Optional<LiveRoute> route = server.pipeline().routes().match(request);
      if (route.isEmpty()) {
        answer(404, "no route");
        return;
      }
      routeName = route.get().name();
      LiveEndpoint endpoint = route.get().pool().choose(request, address.getAddress(), java.util.Set.of());
      Target to = new Target(endpoint.endpoint(), endpoint.key(), route.get().pool().spec().preservesHost(),
          0, "", false, false);
      upstreamText = endpoint.authority();
      Headers outbound = UpstreamFields.outbound(request, this, false, to);
      String target = to.endpoint().basePath().isEmpty() ? request.target()
          : to.endpoint().basePath() + request.target();
      StringBuilder text = new StringBuilder(512).append(request.method()).append(' ').append(target)
          .append(" HTTP/1.1\r\n");
      appendFields(text, outbound);
      ByteBuffer bytes = ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.ISO_8859_1));
      closeAfter = !keepsAlive(head);
      upstream = takeUpstream(to.key(), endpoint);
      upstream.send(this, bytes, requestId);
      key.interestOps(0);
    }

    private boolean keepsAlive(RequestHead head) {
      boolean close = head.headers().containsToken("Connection", "close");
      return head.minorVersion() == 1 ? !close : head.headers().containsToken("Connection", "keep-alive");
    }

    /** Writes the response head (and body bytes already read) for {@code response}. */
    void respond(ResponseHead response, Target to) {
      status = response.status();
      Headers relayed = UpstreamFields.relayed(response, false, to);
      long length = Framing.contentLength(response.headers());
      boolean chunked = response.headers().containsToken("Transfer-Encoding", "chunked");
      Response framed = Response.builder().status(response.status()).reason(response.reason())
          .headers(relayed).body(Body.of(InputStream.nullInputStream(), chunked ? -1 : length)).build();
      ClientHead clientHead = ClientHead.frame(framed, server.configuration().requestIdHeader(),
          upstream.requestId, headRequest, head.minorVersion(), closeAfter, false);
      StringBuilder text = new StringBuilder(512).append("HTTP/1.1 ").append(response.status()).append(' ')
          .append(response.reason()).append("\r\n");
      appendFields(text, clientHead.fields());
      out.clear();
      out.put(text.toString().getBytes(StandardCharsets.ISO_8859_1));
      tally.beforeSending(status, null);
    }

    /** Writes what {@link #out} holds; true once all of it went. */
    boolean flush() throws IOException {
      if (!draining) {
        return true;
      }
      channel.write(out);
      if (out.hasRemaining()) {
        key.interestOps(SelectionKey.OP_WRITE);
        return false;
      }
      draining = false;
      out.clear();
      return true;
    }

    /** The exchange ended: its tally, the next request. */
    void exchangeEnded() throws IOException, HttpFailureException {
      long nanos = System.nanoTime() - startNanos;
      tally.finish(status, null, nanos);
      if (ExchangeReport.wanted(server, false)) {
        new ExchangeReport(server.nextExchangeId(), 0, address, startTime, nanos, request.method(),
            request.url(), head.version(), head.headers(), 0, status, bodyBytes, routeName,
            upstreamText, null, requestId, traceId, null).emit(server, true, true);
      }
      upstream = null;
      head = null;
      if (draining) {
        key.interestOps(SelectionKey.OP_WRITE);
        return;
      }
      if (closeAfter) {
        end();
        return;
      }
      key.interestOps(SelectionKey.OP_READ);
      if (in.hasBuffered()) {
        tryRequest();
      }
    }

    void answer(int code, String why) throws IOException {
      byte[] body = (why + "\n").getBytes(StandardCharsets.ISO_8859_1);
      String text = "HTTP/1.1 " + code + " Error\r\nContent-Type: text/plain\r\nContent-Length: "
          + body.length + "\r\nConnection: close\r\n\r\n";
      out.clear();
      out.put(text.getBytes(StandardCharsets.ISO_8859_1)).put(body).flip();
      draining = true;
      if (tally != null) {
        tally.finish(code, why, System.nanoTime() - startNanos);
      }
      closeAfter = true;
      head = null;
      if (flush()) {
        end();
      }
    }

    void fail(Exception e) {
      log.warn("loop_client_failed error={}", e.toString(), e);
      if (upstream != null) {
        upstream.abandon();
        upstream = null;
      }
      if (head != null && !draining && e instanceof HttpFailureException failure) {
        try {
          answer(failure.failure().status(), failure.getMessage());
          return;
        } catch (IOException ignored) {
          // closed below
        }
      }
      end();
    }

    void end() {
      if (key != null) {
        key.cancel();
      }
      if (channel.isOpen()) {
        closeQuietly(channel);
        listener.releasePermit();
      }
      in.dropBuffer();
    }

    @Override
    public InetSocketAddress clientAddress() {
      return address;
    }

    @Override
    public DestinationCheck destinationCheck() {
      return null;
    }

    @Override
    public void upstreamConnected(dev.ferry.proxy.engine.upstream.UpstreamConnection connection, boolean reused) {}

    @Override
    public void interim(ResponseHead head) {}

    @Override
    public void attach(dev.ferry.proxy.engine.upstream.UpstreamBody body) {}

    @Override
    public void tunnel(dev.ferry.proxy.engine.upstream.UpstreamConnection connection) {}
  }

  /** An upstream connection of the loop's own. */
  private final class Upstream {
    final UpstreamKey key;
    final SocketChannel channel;
    ConnectionInput in;
    SelectionKey selection;
    Client client;
    ByteBuffer request;
    String requestId;
    Target target;
    boolean connected;
    boolean headRead;
    long remaining;
    ChunkedProgress chunks;
    boolean closeDelimited;
    LiveEndpoint endpoint;

    Upstream(UpstreamKey key, LiveEndpoint endpoint) throws IOException {
      this.key = key;
      this.endpoint = endpoint;
      this.channel = SocketChannel.open();
      channel.configureBlocking(false);
      channel.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
      connected = channel.connect(new InetSocketAddress(key.host(), key.port()));
      selection = channel.register(selector, 0, this);
      if (connected) {
        in = new ConnectionInput(channel.socket(), 16 * 1024);
      }
    }

    void send(Client client, ByteBuffer request, String requestId) throws IOException {
      this.client = client;
      this.request = request;
      this.requestId = requestId;
      this.headRead = false;
      this.chunks = null;
      this.closeDelimited = false;
      if (!connected) {
        selection.interestOps(SelectionKey.OP_CONNECT);
        return;
      }
      write();
    }

    void write() throws IOException {
      channel.write(request);
      selection.interestOps(request.hasRemaining() ? SelectionKey.OP_WRITE : SelectionKey.OP_READ);
    }

    void ready(SelectionKey key) throws IOException, HttpFailureException {
      if (client == null) {
        // Idle: bytes nobody asked for, or the upstream's close. Either way it goes.
        close();
        return;
      }
      if (key.isConnectable()) {
        channel.finishConnect();
        connected = true;
        in = new ConnectionInput(channel.socket(), 16 * 1024);
        write();
        return;
      }
      if (key.isWritable()) {
        write();
        return;
      }
      if (key.isReadable()) {
        read();
      }
    }

    void read() throws IOException, HttpFailureException {
      if (!headRead) {
        int n = in.fillNonBlocking(channel);
        if (n < 0) {
          throw new IOException("upstream closed before its answer");
        }
        if (!in.scanBuffered((bytes, from, to) -> HeadScan.headLength(bytes, from, to) >= 0)) {
          return;
        }
        ProxyConfig config = server.configuration();
        ResponseHead head = new HeadParser(in, config.maxRequestLineBytes(), config.maxHeaderBytes(),
            config.maxHeaderCount()).readResponse();
        headRead = true;
        Target to = new Target(endpoint.endpoint(), key, false, 0, "", true, false);
        client.respond(head, to);
        boolean bodiless = client.headRequest || head.status() == 204 || head.status() == 304;
        if (bodiless) {
          remaining = 0;
        } else if (head.headers().containsToken("Transfer-Encoding", "chunked")) {
          chunks = new ChunkedProgress(Long.MAX_VALUE, config.maxHeaderBytes(), config.maxHeaderCount());
          remaining = Long.MAX_VALUE;
        } else {
          long length = Framing.contentLength(head.headers());
          closeDelimited = length < 0;
          remaining = length < 0 ? Long.MAX_VALUE : length;
        }
        ByteBuffer out = client.out;
        int before = out.position();
        in.takeBuffered(out, remaining);
        counted(out, before);
        if (in.hasBuffered() && remaining == 0) {
          throw new IOException("upstream sent bytes past its answer");
        }
        afterRead();
        return;
      }
      ByteBuffer out = client.out;
      int before = out.position();
      if (in.hasBuffered()) {
        in.takeBuffered(out, remaining);
        counted(out, before);
        afterRead();
        return;
      }
      int limit = out.limit();
      if (chunks != null && out.remaining() > client.scratch.length) {
        out.limit(out.position() + client.scratch.length);
      } else if (out.remaining() > remaining) {
        out.limit((int) (out.position() + remaining));
      }
      int n = channel.read(out);
      out.limit(limit);
      if (n < 0) {
        if (!closeDelimited) {
          throw new IOException("upstream closed mid-body");
        }
        remaining = 0;
        client.closeAfter = true;
        out.flip();
        client.draining = true;
        finish(false);
        return;
      }
      counted(out, before);
      afterRead();
    }

    /** Counts the body bytes just put in {@code out} from {@code before}, following chunks. */
    private void counted(ByteBuffer out, int before) {
      int n = out.position() - before;
      client.bodyBytes += n;
      if (chunks != null) {
        out.get(before, client.scratch, 0, Math.min(n, client.scratch.length));
        int used = chunks.feed(client.scratch, 0, n);
        if (chunks.done()) {
          out.position(before + used);
          remaining = 0;
        }
      } else if (!closeDelimited) {
        remaining -= n;
      }
    }

    void afterRead() throws IOException, HttpFailureException {
      client.out.flip();
      client.draining = true;
      if (remaining == 0) {
        finish(true);
        return;
      }
      if (!client.flush()) {
        pause();
        return;
      }
      selection.interestOps(SelectionKey.OP_READ);
    }

    private void pause() {
      selection.interestOps(0);
      client.key.interestOps(SelectionKey.OP_WRITE);
    }

    void resume() {
      selection.interestOps(SelectionKey.OP_READ);
    }

    void finish(boolean reuse) throws IOException, HttpFailureException {
      Client served = client;
      client = null;
      served.flush();
      if (reuse && !in.hasBuffered()) {
        selection.interestOps(SelectionKey.OP_READ);
        idle.computeIfAbsent(key, k -> new ArrayDeque<>()).push(this);
      } else {
        close();
      }
      served.exchangeEnded();
    }

    void fail(Exception e) {
      log.warn("loop_upstream_failed error={}", e.toString(), e);
      Client served = client;
      close();
      if (served != null) {
        served.upstream = null;
        served.fail(e instanceof HttpFailureException ? e
            : new HttpFailureException(dev.ferry.proxy.engine.http1.ProxyFailure.UPSTREAM_BAD_RESPONSE,
                e.getMessage() == null ? e.toString() : e.getMessage()));
      }
    }

    void abandon() {
      client = null;
      close();
    }

    void close() {
      selection.cancel();
      closeQuietly(channel);
      if (in != null) {
        in.dropBuffer();
      }
      ArrayDeque<Upstream> waiting = idle.get(key);
      if (waiting != null) {
        waiting.remove(this);
      }
    }
  }

  private Upstream takeUpstream(UpstreamKey key, LiveEndpoint endpoint) throws IOException {
    ArrayDeque<Upstream> waiting = idle.get(key);
    Upstream upstream = waiting == null ? null : waiting.poll();
    return upstream != null ? upstream : new Upstream(key, endpoint);
  }

  private static void appendFields(StringBuilder text, Headers headers) {
    for (int i = 0; i < headers.size(); i++) {
      text.append(headers.name(i)).append(": ").append(headers.value(i)).append("\r\n");
    }
    text.append("\r\n");
  }

  private static void closeQuietly(SocketChannel channel) {
    try {
      channel.close();
    } catch (IOException ignored) {
      // nothing to do
    }
  }
}
