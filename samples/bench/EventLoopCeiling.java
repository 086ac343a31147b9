import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Iterator;

/**
 * A ceiling, not a proxy: the least work a Java NIO event loop can do to relay this benchmark's
 * traffic, to tell how much of the gap to nginx an event-loop core could close and how much is
 * the JVM's. One selector thread per core, each with its own listening socket (SO_REUSEPORT);
 * each client connection gets one upstream connection, opened at accept. A request is relayed
 * unchanged once its head ends (GETs without bodies, one at a time); the response is relayed as
 * it arrives, framed by its Content-Length. No parsing, validation, header rewriting, pooling,
 * timeouts, logging or statistics: everything Ferry does besides moving bytes is missing, so
 * Ferry cannot beat this and an event-loop Ferry would land somewhere below it.
 * Run by compare.sh: {@code java EventLoopCeiling.java PORT UPSTREAM_PORT}; loopback only.
 */
public final class EventLoopCeiling {
  private static final class Relay {
    SocketChannel client;
    SocketChannel upstream;
    SelectionKey clientKey;
    SelectionKey upstreamKey;
    final ByteBuffer request = ByteBuffer.allocateDirect(16 * 1024);
    final ByteBuffer response = ByteBuffer.allocateDirect(128 * 1024);
    /** Body bytes of the response still to come; -1 until its head has arrived. */
    long remaining = -1;
  }

  private static int upstreamPort;

  public static void main(String[] args) throws IOException {
    int port = Integer.parseInt(args[0]);
    upstreamPort = Integer.parseInt(args[1]);
    for (int i = 0; i < Runtime.getRuntime().availableProcessors(); i++) {
      ServerSocketChannel server = ServerSocketChannel.open();
      server.setOption(StandardSocketOptions.SO_REUSEPORT, true);
      server.bind(new InetSocketAddress("127.0.0.1", port), 1024);
      server.configureBlocking(false);
      Selector selector = Selector.open();
      server.register(selector, SelectionKey.OP_ACCEPT);
      new Thread(() -> loop(selector), "ceiling-loop-" + i).start();
    }
    System.out.println("Listening on 127.0.0.1:" + port);
  }

  private static void loop(Selector selector) {
    try {
      while (true) {
        selector.select();
        Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
        while (keys.hasNext()) {
          SelectionKey key = keys.next();
          keys.remove();
          try {
            handle(selector, key);
          } catch (IOException | CancelledKeyException e) {
            if (key.attachment() instanceof Relay relay) {
              close(relay);
            }
          }
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void handle(Selector selector, SelectionKey key) throws IOException {
    if (key.isAcceptable()) {
      accept(selector, (ServerSocketChannel) key.channel());
      return;
    }
    Relay relay = (Relay) key.attachment();
    if (key == relay.upstreamKey) {
      fromUpstream(relay);
    } else if (key.isWritable()) {
      drainToClient(relay);
    } else {
      fromClient(relay);
    }
  }

  private static void accept(Selector selector, ServerSocketChannel server) throws IOException {
    SocketChannel client = server.accept();
    if (client == null) {
      return;
    }
    Relay relay = new Relay();
    relay.client = client;
    relay.upstream = SocketChannel.open(new InetSocketAddress("127.0.0.1", upstreamPort));
    for (SocketChannel channel : new SocketChannel[] {client, relay.upstream}) {
      channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
      channel.configureBlocking(false);
    }
    relay.clientKey = client.register(selector, SelectionKey.OP_READ, relay);
    relay.upstreamKey = relay.upstream.register(selector, 0, relay);
  }

  private static void fromClient(Relay relay) throws IOException {
    if (relay.client.read(relay.request) < 0) {
      close(relay);
      return;
    }
    if (indexAfterHead(relay.request) == relay.request.position()) {
      relay.request.flip();
      while (relay.request.hasRemaining()) {
        relay.upstream.write(relay.request);
      }
      relay.request.clear();
      relay.clientKey.interestOps(0);
      relay.upstreamKey.interestOps(SelectionKey.OP_READ);
    }
  }

  private static void fromUpstream(Relay relay) throws IOException {
    int n = relay.upstream.read(relay.response);
    if (n < 0) {
      close(relay);
      return;
    }
    if (relay.remaining < 0) {
      int bodyStart = indexAfterHead(relay.response);
      if (bodyStart < 0) {
        return;
      }
      relay.remaining = contentLength(relay.response, bodyStart) - (relay.response.position() - bodyStart);
    } else {
      relay.remaining -= n;
    }
    drainToClient(relay);
  }

  /** Writes what the response buffer holds; waits for the client to read when it cannot take all. */
  private static void drainToClient(Relay relay) throws IOException {
    relay.response.flip();
    relay.client.write(relay.response);
    boolean drained = !relay.response.hasRemaining();
    relay.response.compact();
    if (!drained) {
      relay.upstreamKey.interestOps(0);
      relay.clientKey.interestOps(SelectionKey.OP_WRITE);
    } else if (relay.remaining == 0) {
      relay.remaining = -1;
      relay.upstreamKey.interestOps(0);
      relay.clientKey.interestOps(SelectionKey.OP_READ);
    } else {
      relay.clientKey.interestOps(0);
      relay.upstreamKey.interestOps(SelectionKey.OP_READ);
    }
  }

  /** The index just past the first CRLFCRLF in the bytes before the buffer's position, or -1. */
  private static int indexAfterHead(ByteBuffer buffer) {
    for (int i = 3; i < buffer.position(); i++) {
      if (buffer.get(i) == '\n' && buffer.get(i - 1) == '\r' && buffer.get(i - 2) == '\n'
          && buffer.get(i - 3) == '\r') {
        return i + 1;
      }
    }
    return -1;
  }

  private static long contentLength(ByteBuffer buffer, int headEnd) {
    byte[] head = new byte[headEnd];
    buffer.get(0, head);
    String text = new String(head, java.nio.charset.StandardCharsets.ISO_8859_1).toLowerCase();
    int start = text.indexOf("content-length:") + "content-length:".length();
    return Long.parseLong(text.substring(start, text.indexOf('\r', start)).trim());
  }

  private static void close(Relay relay) {
    try {
      relay.client.close();
      relay.upstream.close();
    } catch (IOException ignored) {
      // Closing a relay whose peer went away.
    }
  }
}
