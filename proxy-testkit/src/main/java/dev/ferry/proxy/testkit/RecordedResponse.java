package dev.ferry.proxy.testkit;

import dev.ferry.proxy.Headers;
import java.util.Objects;
import java.util.Optional;

/**
 * A response as the proxy sent it to the client: status, reason, header fields and the captured
 * body. Immutable. Status 0 means no response head was sent (the exchange failed first, or a
 * fault dropped the connection).
 */
public final class RecordedResponse {
  private static final RecordedResponse NONE =
      new RecordedResponse(0, "", Headers.empty(), RecordedBody.empty(), Headers.empty());

  private final int status;
  private final String reason;
  private final Headers headers;
  private final RecordedBody body;
  private final Headers trailers;

  private RecordedResponse(int status, String reason, Headers headers, RecordedBody body,
      Headers trailers) {
    this.status = status;
    this.reason = reason;
    this.headers = headers;
    this.body = body;
    this.trailers = trailers;
  }

  /** Returns a recorded response. */
  public static RecordedResponse of(int status, String reason, Headers headers, RecordedBody body) {
    return new RecordedResponse(status, Objects.requireNonNull(reason, "reason"),
        Objects.requireNonNull(headers, "headers"), Objects.requireNonNull(body, "body"),
        Headers.empty());
  }

  /** Returns this response with the trailer fields that followed its chunked body. */
  RecordedResponse withTrailers(Headers trailers) {
    return status == 0 ? this
        : new RecordedResponse(status, reason, headers, body, Objects.requireNonNull(trailers));
  }

  /** Returns the placeholder for "no response was sent": status 0, no headers, no body. */
  public static RecordedResponse none() {
    return NONE;
  }

  /** The status code, or 0 if no response head was sent. */
  public int status() {
    return status;
  }

  /** The reason phrase. */
  public String reason() {
    return reason;
  }

  /**
   * The header fields of the response the proxy wrote to the client, which are not exactly those
   * the origin sent: as an HTTP intermediary (RFC 9110 §7.6.3) Ferry appends {@code 1.1 ferry}
   * to {@code Via} and drops hop-by-hop fields ({@code Connection}, {@code Keep-Alive} and those
   * {@code Connection} names), and adds a {@code Date} when the response had none. A body of
   * known length is framed by {@code Content-Length}, as the client got it, also for the answers
   * the proxy made itself and replayed ones; a body sent chunked has neither it nor
   * {@code Transfer-Encoding}, which is hop-by-hop. Replay serves these headers as recorded,
   * {@code Via} included, and frames the recorded body anew; an answer without content (to a HEAD, a 304) keeps its recorded
   * {@code Content-Length}, the length of the representation it describes.
   */
  public Headers headers() {
    return headers;
  }

  /** The first value of a header field, looked up case-insensitively. */
  public Optional<String> header(String name) {
    return headers.first(name);
  }

  /**
   * The trailer fields that followed a chunked body (RFC 9112 §7.1.2), in order; empty for
   * most responses. Exported to HAR in the custom field {@code _trailers}.
   */
  public Headers trailers() {
    return trailers;
  }

  /** The captured body. */
  public RecordedBody body() {
    return body;
  }

  /** Returns {@code 200 OK}, or {@code (no response)}. */
  @Override
  public String toString() {
    return status == 0 ? "(no response)" : status + " " + reason;
  }
}
