package dev.ferry.proxy.testkit;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.Exchange;
import dev.ferry.proxy.Filter;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.Response;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * Applies the fault rules whose predicate selects a request. It runs right after the recorder, so
 * the recording shows what the client really got.
 *
 * <p>Both connection faults rely on documented engine behaviour (ResponseSender): a response
 * body whose stream throws aborts the connection instead of ending the message, and a head
 * goes out with the body's first bytes when the stream says some are ready, else at once. For
 * a drop, the stream says it has bytes ready and throws on its first read, before the buffered
 * response head was ever flushed, so the client receives nothing.
 */
final class FaultFilter implements Filter {
  private final Recorder recorder;
  private final List<Rule> fixed;
  private final List<Rule> rules = new CopyOnWriteArrayList<>();
  private final FaultPauses pauses = new FaultPauses();
  /** The hosts whose CONNECT opens an intercepted session: plumbing, not an exchange to fault. */
  private volatile Predicate<String> intercepted = host -> false;

  /** A fault for the requests {@code when} selects; {@code owner} is the test view that added it. */
  record Rule(Predicate<Request> when, Fault fault, Object owner) {
    static Rule of(UnaryOperator<ExchangeMatcher> when, Fault fault, Object owner) {
      Predicate<Request> test = ExchangeMatcher.build(when).onRequestHead("faults");
      return new Rule(test, Objects.requireNonNull(fault, "fault"), owner);
    }
  }

  FaultFilter(Recorder recorder, List<Rule> fixed) {
    this.recorder = recorder;
    this.fixed = List.copyOf(fixed);
  }

  /** Leaves alone the CONNECTs to these hosts: their sessions' requests get the faults. */
  void skipConnectsTo(Predicate<String> interceptedHosts) {
    this.intercepted = interceptedHosts;
  }

  void add(Rule rule) {
    rules.add(rule);
  }

  /** Removes the rules {@code owner} added. */
  void clear(Object owner) {
    rules.removeIf(rule -> rule.owner() == owner);
  }

  /**
   * Removes the rules of {@code owner}, a test's view that closed, and ends the waits of those
   * still holding exchanges: the held request reached the origin during the next test (probe t28).
   */
  void end(Object owner) {
    clear(owner);
    pauses.close(owner);
  }

  @Override
  public Response handle(Exchange exchange, Chain chain) throws IOException {
    Request request = exchange.request();
    if (request.method().equals("CONNECT") && intercepted.test(request.host())) {
      return chain.proceed(request);
    }
    List<Rule> matched = new ArrayList<>();
    for (List<Rule> list : List.of(fixed, rules)) {
      for (Rule rule : list) {
        if (rule.when().test(request)) {
          matched.add(rule);
        }
      }
    }
    if (matched.isEmpty()) {
      return chain.proceed(request);
    }
    List<Fault> faults = new ArrayList<>(matched.size());
    matched.forEach(rule -> faults.add(rule.fault()));
    InFlight state = recorder.inFlight(exchange.id());
    state.fault = faults.size() == 1 ? faults.get(0).toString() : faults.toString();
    state.faultChangedResponse = faults.stream().anyMatch(Fault::changesResponse);
    for (Rule rule : matched) {
      Fault fault = rule.fault();
      if (fault.kind() == Fault.Kind.DROP) {
        state.dropped = true;
        return dropped("dropped before response");
      }
      if (fault.kind() == Fault.Kind.LATENCY) {
        if (!pauses.pause(fault.amount(), rule.owner())) {
          // The proxy is closing, or the test that injected the fault ended: the exchange ends
          // now, not at the close's grace nor in the middle of the next test. Answered, not
          // dropped: a client resends an idempotent request whose connection closed unanswered
          // (java.net.http does, RFC 9110 §9.2.2), and the resent one, the rule gone, reached
          // the origin during the next test and was in its recording (probe tk1).
          return latencyEnded();
        }
        state.releasedNanos = System.nanoTime();
      }
    }
    Response response = chain.proceed(request);
    for (Rule rule : matched) {
      Fault fault = rule.fault();
      switch (fault.kind()) {
        case STATUS:
          response = response.toBuilder().status((int) fault.amount()).build();
          break;
        case BANDWIDTH:
          response = response.withBody(Body.of(
              new ThrottledInputStream(response.body().stream(), fault.amount(), pauses, rule.owner()),
              response.body().contentLength()));
          break;
        case RESET:
          long length = response.body().contentLength();
          if (length == 0) {
            break; // nothing to cut: it arrives whole, as the javadoc says (probe v36)
          }
          // A body of known length keeps back its last byte: failing only at its end would
          // come after the engine had sent a complete message.
          long cut = length > 0 ? Math.min(fault.amount(), length - 1) : fault.amount();
          response = response.withBody(Body.of(
              new FailingInputStream(cut, response.body().stream(), "reset mid-response"), length));
          break;
        default:
          break;
      }
    }
    return response;
  }

  /** Ends the waits of latency and bandwidth faults: the proxy is closing. */
  void close() {
    pauses.close();
  }

  /** The answer to a request whose injected latency ended with its test or its proxy: never sent. */
  private static Response latencyEnded() {
    return Response.builder().status(503)
        .header("Content-Type", "text/plain; charset=utf-8")
        .body(Body.of("Ferry testkit: the test that delayed this request with Fault.latency ended (or its "
            + "proxy closed); the request was not sent\n")).build();
  }

  /**
   * A response whose body fails before its first byte, reported ready so that the engine reads
   * it before flushing the head: the client gets nothing. Not a 2xx: a CONNECT's 2xx goes out as
   * its head alone, without reading the body.
   */
  private static Response dropped(String reason) {
    return Response.builder().status(502)
        .body(Body.of(new FailingInputStream(0, null, reason), 1)).build();
  }
}
