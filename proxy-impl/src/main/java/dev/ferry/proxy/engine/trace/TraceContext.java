package dev.ferry.proxy.engine.trace;

import dev.ferry.proxy.Headers;
import dev.ferry.proxy.engine.http1.NameSet;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The trace an exchange belongs to, per W3C Trace Context: the trace id, the proxy's own span id
 * (which becomes the upstream's parent-id), and the sampled flag. A valid incoming
 * {@code traceparent} is continued (its trace id kept, {@code tracestate} passed on untouched);
 * without one, Zipkin B3 (single {@code b3} header or {@code X-B3-*}) is continued, and its B3
 * headers name the proxy's span too; a B3 sampling decision alone ({@code b3: 0},
 * {@code X-B3-Sampled: 0}) starts a trace with that decision; otherwise the proxy starts a trace,
 * sampled, and a {@code tracestate} (which belongs to the traceparent it came with) goes.
 *
 * @param source where the trace came from, which decides the headers {@link #propagate} writes
 * @param shortB3 a B3 trace id of 64 bits, sent on as it came (the W3C id is it, zero-padded)
 * @param b3Sampling the B3 sampling state to send on: {@code 1}, {@code 0}, {@code d} (debug),
 *     or empty for a decision deferred (none was sent)
 * @param randomTraceId whether the trace id is known to be random: Trace Context Level 2's
 *     {@code random-trace-id} flag, set on traces the proxy starts and kept from a traceparent
 *     (the proxy keeps its trace id, so the flag stays true; Level 1 recipients ignore it)
 */
public record TraceContext(String traceId, String spanId, String parentId, boolean sampled,
    Source source, boolean shortB3, String b3Sampling, boolean randomTraceId) {
  private static final String ZERO_TRACE = "0".repeat(32);
  private static final String ZERO_SPAN = "0".repeat(16);
  /** Every field this class reads or replaces. */
  private static final NameSet TRACE_FIELDS = NameSet.of("traceparent", "tracestate", "b3", "X-B3-TraceId",
      "X-B3-SpanId", "X-B3-ParentSpanId", "X-B3-Sampled", "X-B3-Flags");

  /**
   * Where a trace came from: started by the proxy for a request with no trace field at all
   * ({@code NONE}) or with only fields it could not continue ({@code STARTED}), or continued.
   */
  public enum Source { NONE, STARTED, TRACEPARENT, B3 }

  /** Continues the trace the request carries, or starts one. */
  public static TraceContext continueOrStart(Headers headers) {
    if (!carriesTrace(headers)) {
      // Most requests carry none: one pass over the names, not a lookup per field read below.
      return start(true, Source.NONE);
    }
    return fromTraceparent(headers).or(() -> fromB3(headers))
        .orElseGet(() -> start(b3SamplingDecision(headers), Source.STARTED));
  }

  private static TraceContext start(boolean sampled, Source source) {
    return new TraceContext(randomHex(16), randomHex(8), null, sampled, source, false, "", true);
  }

  /** The {@code traceparent} to send upstream: this trace, with the proxy's span as parent. */
  public String traceparent() {
    return "00-" + traceId + "-" + spanId + "-0" + ((sampled ? 1 : 0) | (randomTraceId ? 2 : 0));
  }

  /**
   * The client's headers, {@code received}, with the trace headers the upstream gets: the
   * {@code traceparent}; the B3 headers the client sent, naming this trace and the proxy's span
   * (whichever header the trace was continued from), with the client's sampling state (a
   * deferred decision stays deferred, debug stays debug); and no {@code tracestate} unless the
   * trace came with a valid {@code traceparent} (W3C Trace Context §3.3: a tracestate is only
   * meaningful with its traceparent) and it is well formed ({@link TraceState}). A trace the
   * proxy started sends on only a B3 sampling decision the client sent alone, never B3 ids it
   * could not continue (invalid ones). {@code received} are the fields this trace was made from
   * by {@link #continueOrStart}: for a request that had no trace field, they are not looked at
   * again.
   */
  public Headers.Builder propagate(Headers received) {
    if (source == Source.NONE) {
      return received.toBuilder().add("traceparent", traceparent());
    }
    Headers.Builder headers = received.toBuilder().set("traceparent", traceparent());
    if (source != Source.TRACEPARENT || !TraceState.valid(received.all("tracestate"))) {
      headers.remove("tracestate");
    }
    if (source == Source.STARTED) {
      // B3 ids the client sent were not valid, or this trace would be theirs: never send them on
      // beside a traceparent of another trace. A bare sampling decision stays.
      headers.remove("X-B3-TraceId").remove("X-B3-SpanId").remove("X-B3-ParentSpanId");
      received.first("b3").filter(b3 -> !isSamplingState(b3.trim())).ifPresent(b3 -> headers.remove("b3"));
      received.first("X-B3-Sampled").filter(sampled -> multiHeaderSampling(sampled.trim()) == null)
          .ifPresent(sampled -> headers.remove("X-B3-Sampled"));
      return headers;
    }
    String b3Trace = shortB3 ? traceId.substring(16) : traceId;
    if (received.contains("b3")) {
      headers.set("b3", b3Trace + "-" + spanId + (b3Sampling.isEmpty() ? "" : "-" + b3Sampling + "-" + parentId));
    }
    if (received.contains("X-B3-TraceId")) {
      headers.set("X-B3-TraceId", b3Trace).set("X-B3-SpanId", spanId).set("X-B3-ParentSpanId", parentId);
      if (b3Sampling.equals("1") || b3Sampling.equals("0")) {
        // Debug (X-B3-Flags: 1) implies an accept decision, sent without X-B3-Sampled.
        headers.set("X-B3-Sampled", b3Sampling);
      }
    }
    return headers;
  }

  /** Whether {@code headers} hold any field of W3C Trace Context or B3. */
  private static boolean carriesTrace(Headers headers) {
    for (int i = 0; i < headers.size(); i++) {
      if (TRACE_FIELDS.contains(headers.name(i))) {
        return true;
      }
    }
    return false;
  }

  /** RFC-like strict parse of version 00 (and forward-compatible higher versions). */
  static Optional<TraceContext> fromTraceparent(Headers headers) {
    var values = headers.all("traceparent");
    if (values.size() != 1) {
      return Optional.empty();
    }
    String value = values.get(0).trim();
    String[] parts = value.split("-", -1);
    if (parts.length < 4 || parts[0].length() != 2 || !isHex(parts[0]) || parts[0].equals("ff")
        || (parts[0].equals("00") && parts.length != 4)) {
      return Optional.empty();
    }
    String traceId = parts[1];
    String parent = parts[2];
    String flags = parts[3];
    if (traceId.length() != 32 || !isHex(traceId) || traceId.equals(ZERO_TRACE)
        || parent.length() != 16 || !isHex(parent) || parent.equals(ZERO_SPAN)
        || flags.length() != 2 || !isHex(flags)) {
      return Optional.empty();
    }
    int flagBits = Integer.parseInt(flags, 16);
    boolean sampled = (flagBits & 1) == 1;
    return Optional.of(new TraceContext(traceId, randomHex(8), parent, sampled, Source.TRACEPARENT, false,
        sampled ? "1" : "0", (flagBits & 2) == 2));
  }

  /** Zipkin B3: {@code b3: traceid-spanid[-sampled[-parent]]} or the {@code X-B3-*} headers. */
  static Optional<TraceContext> fromB3(Headers headers) {
    Optional<String> single = headers.first("b3");
    String traceId;
    String spanId;
    String sampled;
    if (single.isPresent()) {
      String[] parts = single.get().trim().split("-", -1);
      if (parts.length < 2 || parts.length > 4 || (parts.length > 2 && !isSamplingState(parts[2]))) {
        return Optional.empty();
      }
      traceId = parts[0];
      spanId = parts[1];
      sampled = parts.length > 2 ? parts[2] : "";
    } else {
      Optional<String> trace = headers.first("X-B3-TraceId");
      Optional<String> span = headers.first("X-B3-SpanId");
      if (trace.isEmpty() || span.isEmpty()) {
        return Optional.empty();
      }
      traceId = trace.get().trim();
      spanId = span.get().trim();
      sampled = b3Debug(headers) ? "d"
          : multiHeaderSampling(headers.first("X-B3-Sampled").orElse("").trim());
      if (sampled == null) {
        return Optional.empty();
      }
    }
    traceId = traceId.toLowerCase(Locale.ROOT);
    spanId = spanId.toLowerCase(Locale.ROOT);
    if ((traceId.length() != 16 && traceId.length() != 32) || !isHex(traceId)
        || spanId.length() != 16 || !isHex(spanId)) {
      return Optional.empty();
    }
    String padded = traceId.length() == 16 ? "0".repeat(16) + traceId : traceId;
    if (padded.equals(ZERO_TRACE) || spanId.equals(ZERO_SPAN)) {
      return Optional.empty();
    }
    String state = denies(sampled) ? "0" : sampled.isEmpty() || sampled.equals("d") ? sampled : "1";
    return Optional.of(new TraceContext(padded, randomHex(8), spanId, !denies(sampled),
        Source.B3, traceId.length() == 16, state, false));
  }

  /**
   * A B3 sampling decision sent without ids ({@code b3: 0}, or {@code X-B3-Sampled: 0} alone):
   * false when it denies sampling; true otherwise.
   */
  private static boolean b3SamplingDecision(Headers headers) {
    Optional<String> single = headers.first("b3");
    if (single.isPresent()) {
      return !denies(single.get().trim());
    }
    return b3Debug(headers) || !denies(headers.first("X-B3-Sampled").orElse("1").trim());
  }

  /**
   * B3's debug flag: {@code X-B3-Flags: 1}, the only value the specification gives it. Tracers
   * that always send the field send {@code 0} when not debugging, which must not force sampling.
   */
  private static boolean b3Debug(Headers headers) {
    return headers.first("X-B3-Flags").map(String::trim).filter("1"::equals).isPresent();
  }

  /**
   * {@code X-B3-Sampled}: {@code 1} or {@code 0}, or the {@code true} and {@code false} older
   * tracers send (which the B3 specification asks recipients to tolerate), as {@code 1} or
   * {@code 0}; empty when absent (deferred); null for anything else, which cannot be continued.
   */
  private static String multiHeaderSampling(String value) {
    if (value.isEmpty() || value.equals("1") || value.equals("0")) {
      return value;
    }
    return value.equalsIgnoreCase("true") ? "1" : value.equalsIgnoreCase("false") ? "0" : null;
  }

  /** A B3 single-header sampling state: accept, deny or debug. */
  private static boolean isSamplingState(String value) {
    return value.equals("1") || value.equals("0") || value.equals("d");
  }

  private static boolean denies(String sampled) {
    return sampled.equals("0") || sampled.equalsIgnoreCase("false");
  }

  private static boolean isHex(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return !s.isEmpty();
  }

  private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.ISO_8859_1);

  /** {@code bytes} random bytes as lower-case hex; never all zeros (an invalid id). */
  static String randomHex(int bytes) {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    byte[] hex = new byte[bytes * 2];
    boolean zero = true;
    for (int i = 0; i < hex.length; i += 16) {
      long value = random.nextLong();
      zero &= value == 0;
      for (int j = Math.min(16, hex.length - i) - 1; j >= 0; j--) {
        hex[i + j] = HEX[(int) (value & 0xf)];
        value >>>= 4;
      }
    }
    return zero ? randomHex(bytes) : new String(hex, StandardCharsets.ISO_8859_1);
  }
}
