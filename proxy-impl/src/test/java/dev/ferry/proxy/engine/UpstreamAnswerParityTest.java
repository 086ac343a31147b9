package dev.ferry.proxy.engine;

import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Upstream;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Upstream answers of unusual but readable shapes reach the client the same from an event loop as
 * from the threads, field for field, and the next request on the connection too: a loop reads an
 * answer's head whole into a buffer and relays its body from what that buffer and the socket
 * hold, the threads read both as streams, and each edge of the buffer (a head past it, bytes left
 * in it after the answer) is where they drifted apart.
 */
class UpstreamAnswerParityTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();

  private static final String LARGE_FIELDS = "X-Large: " + "v".repeat(20_000) + "\r\n";
  private static final String CHUNK = "c".repeat(20_000);

  static Stream<Arguments> answers() {
    String exact = "HTTP/1.1 200 OK\r\nContent-Length: 16000\r\n\r\n";
    return Stream.of(
        Arguments.of("204 with bytes after it", "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nstray", false),
        Arguments.of("304 with bytes after it", "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\nstray", false),
        Arguments.of("bytes past the length", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXCESS", false),
        Arguments.of("a second answer behind the first", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
            + "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecret", false),
        Arguments.of("a head past the read buffer", "HTTP/1.1 200 OK\r\n" + LARGE_FIELDS
            + "Content-Length: 2\r\n\r\nok", false),
        Arguments.of("a head past the read buffer, then chunks", "HTTP/1.1 200 OK\r\n" + LARGE_FIELDS
            + "Transfer-Encoding: chunked\r\n\r\n" + Integer.toHexString(CHUNK.length()) + "\r\n" + CHUNK + "\r\n0\r\n\r\n", false),
        Arguments.of("one chunk past the chunk scratch", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            + Integer.toHexString(CHUNK.length()) + "\r\n" + CHUNK + "\r\n0\r\n\r\n", false),
        Arguments.of("chunks with a trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n"
            + "2\r\nok\r\n0\r\nX-T: 1\r\n\r\n", false),
        Arguments.of("head and body filling the read buffer", exact + "e".repeat(16 * 1024 - exact.length()), false),
        Arguments.of("hop-by-hop fields", "HTTP/1.1 200 OK\r\nConnection: X-Secret\r\nX-Secret: s\r\n"
            + "Keep-Alive: timeout=5\r\nProxy-Authenticate: Basic\r\nContent-Length: 2\r\n\r\nok", false),
        Arguments.of("no reason phrase", "HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok", false),
        Arguments.of("Connection: close on a kept connection", "HTTP/1.1 200 OK\r\nConnection: close\r\n"
            + "Content-Length: 2\r\n\r\nok", false),
        Arguments.of("HTTP/1.0 with a length", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", true),
        Arguments.of("no length: the close ends it", "HTTP/1.1 200 OK\r\n\r\nuntil the close", true),
        Arguments.of("HTTP/1.0 without a length", "HTTP/1.0 200 OK\r\n\r\nuntil the close", true));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("answers")
  void answersAsTheThreadsDo(String name, String rawAnswer, boolean originCloses) throws Exception {
    sameAnswers("GET", name, rawAnswer, originCloses);
  }

  /** The same answers to a DELETE and an OPTIONS, which a loop serves as it serves a GET. */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("deletesAndOptions")
  void answersDeletesAndOptionsAsTheThreadsDo(String method, String name, String rawAnswer, boolean originCloses)
      throws Exception {
    sameAnswers(method, name, rawAnswer, originCloses);
  }

  static Stream<Arguments> deletesAndOptions() {
    return Stream.of("DELETE", "OPTIONS").flatMap(method -> answers()
        .map(answer -> Arguments.of(Stream.concat(Stream.of(method), Stream.of(answer.get())).toArray())));
  }

  /** Sends {@code method} twice on one connection to a loop's proxy and to a threads' one, each in front of an origin answering {@code rawAnswer}. */
  private void sameAnswers(String method, String name, String rawAnswer, boolean originCloses) throws Exception {
    TinyOrigin origin = ferry.track(originCloses ? TinyOrigin.answeringThenClosing(rawAnswer)
        : TinyOrigin.answering(rawAnswer));
    ProxyServer onLoop = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/"))).eventLoop(true));
    ProxyServer onThreads = ferry.start(ProxyServer.builder().upstream(Upstream.of(origin.url("/"))).eventLoop(false));
    try (RawClient loop = new RawClient(onLoop.address()); RawClient threads = new RawClient(onThreads.address())) {
      String request = method + " /" + name.replace(' ', '-') + " HTTP/1.1\r\nHost: a\r\n\r\n";
      LoopParity.sameAnswers(loop, threads, request, request);
    }
  }
}
