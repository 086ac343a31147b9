package dev.ferry.proxy.testkit;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.Exchange;
import dev.ferry.proxy.Filter;
import dev.ferry.proxy.Headers;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.Response;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers requests from recorded exchanges instead of the network; the last filter, so user
 * filters still see replayed traffic. Several recorded exchanges for one request are served in
 * recorded order, the last one repeating, so a recorded polling sequence replays as it happened
 * ({@link #restart()} starts them over). An unmatched request is answered 502 with what was asked
 * and the nearest recorded requests, or forwarded when {@code forwardUnmatched}
 * (record-if-missing), which also forwards a request whose only matches cannot be replayed.
 *
 * <p>A CONNECT to a host the proxy intercepts is answered 200 here, recorded or not (a browser's
 * HAR has no CONNECT entries): the engine then intercepts the session without a tunnel to the
 * origin, and the requests inside it are replayed, or forwarded over TLS of their own when
 * unmatched in record-if-missing, so HTTPS replays offline. That CONNECT is not
 * {@linkplain RecordedExchange#replayed() replayed}: no recording answered it. A CONNECT to a host it does not
 * intercept is never answered from a recording (nothing of what went through the tunnel is
 * recorded): record-if-missing opens the tunnel, and replay alone answers 502 saying why.
 */
final class ReplayFilter implements Filter {
  private static final Logger log = LoggerFactory.getLogger(RecordingProxy.class);
  private final Recorder recorder;
  private final List<RecordedExchange> recorded;
  private final int[] uses;
  private final ReplayMatcher matcher;
  private final boolean forwardUnmatched;
  private final int maxBodyBytes;
  private final Predicate<String> intercepted;
  private final ReentrantLock lock = new ReentrantLock();

  ReplayFilter(Recorder recorder, List<RecordedExchange> recorded, ReplayMatcher matcher,
      boolean forwardUnmatched, int maxBodyBytes, Predicate<String> intercepted) {
    this.intercepted = intercepted;
    this.recorder = recorder;
    this.recorded = List.copyOf(recorded);
    this.uses = new int[recorded.size()];
    this.matcher = matcher;
    this.forwardUnmatched = forwardUnmatched;
    this.maxBodyBytes = maxBodyBytes;
  }

  @Override
  public Response handle(Exchange exchange, Chain chain) throws IOException {
    Request request = exchange.request();
    if (request.method().equals("CONNECT")) {
      if (intercepted.test(request.host())) {
        // Not marked replayed: no recording answered it, and a first run reported it as replayed
        // (probe t24). Record-if-missing leaves every CONNECT out of the file on its own.
        return Response.builder().status(200).reason("Connection Established").build();
      }
      // A tunnel the proxy does not decrypt carries bytes no recording holds: a "replayed" 200
      // would leave the client's TLS handshake talking to nobody.
      if (forwardUnmatched) {
        return chain.proceed(request);
      }
      recorder.inFlight(exchange.id()).unmatched = true;
      String why = "a CONNECT tunnel to " + request.authority() + " cannot be replayed, as what goes "
          + "through it is not recorded; intercept HTTPS (interceptHttps()) to record and replay the "
          + "requests inside it";
      // Logged too: a client shows only "Tunnel failed, got: 502", never this answer's body.
      log.warn("replay_tunnel_refused authority={} reason=\"{}\"", request.authority(), why);
      return Response.text(502, "Ferry replay: " + why + "\n");
    }
    byte[] head = new byte[0];
    InputStream rest = null;
    if (!request.body().isEmpty()) {
      rest = request.body().stream();
      // A byte past the cap tells a body of unknown length (chunked) that is longer than the cap
      // from one that fits: taken as whole, its prefix matched a recorded body equal to it.
      head = rest.readNBytes(maxBodyBytes == Integer.MAX_VALUE ? maxBodyBytes : maxBodyBytes + 1);
    }
    // For a longer chunked body, cap + 1 is a lower bound: enough to mark it truncated.
    long size = rest != null && request.body().contentLength() >= 0
        ? request.body().contentLength() : head.length;
    byte[] kept = head.length > maxBodyBytes ? Arrays.copyOf(head, maxBodyBytes) : head;
    RecordedRequest incoming = RecordedRequest.of(request,
        RecordedBody.of(kept, size, request.headers()));
    RecordedExchange match = find(incoming);
    InFlight state = recorder.inFlight(exchange.id());
    if (match != null) {
      // A match that cannot be replayed is answered 502 saying why, and flagged as a request no
      // recording answered: failOnUnexpectedTraffic let it pass as replayed (probe testkit F2).
      state.replayed = replayable(match);
      state.unmatched = !state.replayed;
      if (rest != null) {
        rest.close();
      }
      return answer(match, request.method().equals("HEAD"));
    }
    if (forwardUnmatched) {
      Request forwarded = request;
      if (rest != null) {
        forwarded = request.withBody(Body.of(
            new SequenceInputStream(new ByteArrayInputStream(head), rest),
            request.body().contentLength()));
      }
      return chain.proceed(forwarded);
    }
    state.unmatched = true;
    if (rest != null) {
      rest.close();
    }
    return Response.text(502, explain(incoming, exchange.mode() == Exchange.Mode.REVERSE));
  }

  /**
   * The next recorded exchange in the request's sequence. One that cannot be replayed (its
   * response body cut, no response, or a protocol switch) is passed over while another matches: a file healed by
   * record-if-missing holds the old cut entry and the whole one recorded after it. When only
   * such entries match, replay alone answers from the first (a 502 saying why), while
   * record-if-missing forwards the request to record it again.
   */
  private RecordedExchange find(RecordedRequest incoming) {
    lock.lock();
    try {
      int last = -1;
      int unreplayable = -1;
      for (int i = 0; i < recorded.size(); i++) {
        if (!matcher.matches(recorded.get(i).request(), incoming)) {
          continue;
        }
        if (!replayable(recorded.get(i))) {
          unreplayable = unreplayable < 0 ? i : unreplayable;
        } else if (uses[i] == 0) {
          uses[i]++;
          return recorded.get(i);
        } else {
          last = i;
        }
      }
      if (last >= 0) {
        uses[last]++;
        return recorded.get(last);
      }
      return unreplayable >= 0 && !forwardUnmatched ? recorded.get(unreplayable) : null;
    } finally {
      lock.unlock();
    }
  }

  private static boolean replayable(RecordedExchange exchange) {
    RecordedResponse response = exchange.response();
    return response.status() != 0 && response.status() != 101 && !response.body().truncated();
  }

  /**
   * Serves every recorded sequence from its start again, for a new test on a proxy shared by a
   * test class: its sequences used to go on where the previous test left them.
   */
  void restart() {
    lock.lock();
    try {
      Arrays.fill(uses, 0);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Framing headers are dropped: the engine frames the replayed body for this client. The body
   * goes out as recorded, still compressed if it was (its Content-Encoding stays). An answer
   * without content, to a HEAD or a 304, keeps its recorded Content-Length: it is the length of
   * the representation it describes (RFC 9110 §8.6), not of the empty body recorded, and the
   * engine passes it on for those as it does live. A relayed response that broke off live (an
   * upstream that closed mid-body, a stall) breaks off after the same bytes in replay: answered
   * whole, it would pass tests that failed live (probe t22).
   */
  private static Response answer(RecordedExchange exchange, boolean head) {
    RecordedResponse response = exchange.response();
    if (response.status() == 0) {
      return Response.text(502, "Ferry replay: the recorded exchange got no response\n");
    }
    if (response.status() == 101) {
      // Answered 101, the engine would look for an upgrade the upstream accepted: there is none.
      return Response.text(502, "Ferry replay: the recorded exchange switched protocols (101, such "
          + "as a WebSocket's upgrade), and what went over the connection after it is not "
          + "recorded; use recordIfMissing, which forwards it, or leave it out of replayed tests\n");
    }
    if (response.body().truncated()) {
      // Replaying a prefix as if it were the whole body would pass tests it should fail.
      return Response.text(502, "Ferry replay: the recorded response body holds "
          + response.body().bytes().length + " of its " + response.body().size() + " bytes (cut at "
          + "maxBodyBytes, or left out by the tool that wrote the HAR); record it again, with a "
          + "larger maxBodyBytes\n");
    }
    Headers headers = response.headers().without("Transfer-Encoding");
    if (!head && response.status() != 304) {
      headers = headers.without("Content-Length");
    }
    Body body = response.trailers().isEmpty() ? Body.of(response.body().bytes())
        : new TrailingBody(response.body().bytes(), response.trailers());
    if (exchange.failure().isPresent() && !exchange.proxyMade() && !head && response.status() >= 200
        && response.status() != 204 && response.status() != 304) {
      body = Body.of(cutAfter(response.body().bytes(), exchange.failure().get()), -1);
    }
    Response.Builder answer = Response.builder().status(response.status())
        .headers(headers).body(body);
    if (!response.reason().isEmpty()) {
      answer.reason(response.reason());
    }
    return answer.build();
  }

  /** {@code bytes}, then the failure the recorded response broke off with. */
  private static InputStream cutAfter(byte[] bytes, String failure) {
    InputStream cut = new InputStream() {
      @Override
      public int read() throws IOException {
        throw new IOException("Ferry replay: the recorded response broke off here (" + failure + ")");
      }
    };
    return new SequenceInputStream(new ByteArrayInputStream(bytes), cut);
  }

  private String explain(RecordedRequest incoming, boolean reverse) {
    StringBuilder text = new StringBuilder("Ferry replay: no recorded exchange matches ")
        .append(incoming.method()).append(' ').append(incoming.url()).append('\n');
    if (recorded.isEmpty()) {
      return text.append("The recording is empty.\n").toString();
    }
    text.append("Nearest recorded requests:\n");
    List<RecordedRequest> nearest = new ArrayList<>();
    recorded.forEach(e -> nearest.add(e.request()));
    nearest.sort(Comparator.comparingInt((RecordedRequest r) -> -closeness(r, incoming)));
    nearest.stream().map(RecordedRequest::toString).distinct().limit(5)
        .forEach(r -> text.append("  ").append(r).append('\n'));
    // What the mode's default matcher compares: the whole URL forward, the target in reverse
    // (where every recorded URL names another run's ephemeral port). Only a recorded request
    // equal in that may be said to differ in the rest (headers, body).
    boolean sameRequest = nearest.stream().anyMatch(r -> r.method().equals(incoming.method())
        && (reverse ? r.target().equals(incoming.target()) : r.url().equals(incoming.url())));
    boolean sameTarget = nearest.stream().anyMatch(r -> r.method().equals(incoming.method())
        && r.target().equals(incoming.target()));
    if (sameRequest) {
      text.append("A recorded request has this method and target: the matcher's other conditions "
          + "(headers, body) differ.\n");
      RecordedRequest twin = nearest.stream().filter(r -> r.method().equals(incoming.method())
          && (reverse ? r.target().equals(incoming.target()) : r.url().equals(incoming.url())))
          .findFirst().orElseThrow();
      if (!Arrays.equals(twin.body().bytes(), incoming.body().bytes())) {
        // Which bodies differed went unsaid (probe testkit F7): both, where they part.
        String recordedText = excerptable(twin.body());
        String incomingText = excerptable(incoming.body());
        int from = BodyExcerpt.firstDifference(recordedText, incomingText);
        text.append("Its body: ").append(BodyExcerpt.around(recordedText, from)).append('\n')
            .append("This body: ").append(BodyExcerpt.around(incomingText, from)).append('\n');
      }
    } else if (sameTarget) {
      text.append("A recorded request has this method and target at another origin: "
          + "the scheme, host or port of its URL differ.\n");
    }
    return text.toString();
  }

  /** A body as text for a message: decoded where it can be, otherwise what it is. */
  private static String excerptable(RecordedBody body) {
    if (body.isEmpty()) {
      return "(empty)";
    }
    if (body.isUndecodable()) {
      return "(" + body.size() + " bytes the testkit cannot decode)";
    }
    return body.text();
  }

  /** Same method and authority weigh most, then the length of the common URL prefix. */
  private static int closeness(RecordedRequest a, RecordedRequest b) {
    int score = a.method().equals(b.method()) ? 100_000 : 0;
    score += a.authority().equalsIgnoreCase(b.authority()) ? 50_000 : 0;
    String x = a.url();
    String y = b.url();
    int common = 0;
    while (common < Math.min(x.length(), y.length()) && x.charAt(common) == y.charAt(common)) {
      common++;
    }
    return score + common;
  }
}
