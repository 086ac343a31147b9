package dev.ferry.proxy.testkit;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.Headers;
import dev.ferry.proxy.Request;
import java.util.Objects;
import java.util.Optional;

/**
 * A request as the client sent it to the proxy: method, target, version, header fields and the
 * captured body, taken before any filter of yours runs and before the proxy prepares the request
 * for its upstream. Immutable.
 *
 * <p>Its fields include the two the proxy sets before any filter runs, as its upstream gets them:
 * the request ID ({@code X-Request-Id}, the client's own if it sent one) and the trace context
 * ({@code traceparent}, with the proxy's span). Both change from run to run unless the client
 * sends them; {@link ReplayMatcher#methodAndUrl()}, {@code methodAndTarget()} and {@code body()}
 * ignore them. In reverse mode the client's own forwarding fields ({@code X-Forwarded-For},
 * {@code Forwarded}...) are already gone, as the proxy never passes them on.
 *
 * <p>The fields the client's {@code Connection} names are gone, with their names from it: the
 * proxy takes them as they arrive, so that none can stand for a field a filter sets later.
 *
 * <p>It is not quite what the origin received: the client's other hop-by-hop fields
 * ({@code Connection}, {@code Keep-Alive}, {@code Proxy-Connection}, {@code TE},
 * {@code Upgrade} outside an upgrade) are still there, and the fields the proxy adds
 * on the way out ({@code Via}, in reverse mode {@code X-Forwarded-*} and {@code Forwarded}) and
 * what your own filters change are not. So {@code Via} is never recorded, and to check what an
 * origin was sent, look at the origin (a MockWebServer's {@code takeRequest()}). The body is the
 * client's, byte for byte (up to {@code maxBodyBytes}), also when the proxy answered without
 * forwarding it (the origin down, {@link Fault#dropBeforeResponse()}): what nothing read of it is
 * read into the recording then. A client that awaited {@code 100 Continue} and was answered
 * before its body was asked for never sent one: its body is recorded empty.
 */
public final class RecordedRequest {
  private final Request head;
  private final RecordedBody body;
  private final Headers trailers;

  private RecordedRequest(Request head, RecordedBody body, Headers trailers) {
    this.head = head;
    this.body = body;
    this.trailers = trailers;
  }

  /**
   * Returns a recorded request made of this request's head (its body is ignored) and a captured
   * body. A port that is the scheme's default ({@code :80} for {@code http}, {@code :443} for
   * {@code https}) is left out of the authority and URL, as browsers and HAR tools write them
   * (RFC 3986 §6.2.3); {@link #port()} still returns it. A CONNECT keeps its {@code host:port}.
   */
  public static RecordedRequest of(Request request, RecordedBody body) {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(body, "body");
    return new RecordedRequest(withoutDefaultPort(request.withBody(Body.empty())), body,
        Headers.empty());
  }

  /**
   * The engine names an intercepted request's origin by its CONNECT authority, which always has
   * a port: without this, {@code https://host/} recorded as {@code https://host:443/} and never
   * matched a browser's HAR or a {@code url(...)} condition.
   */
  private static Request withoutDefaultPort(Request request) {
    String authority = request.authority();
    String defaultPort = request.scheme().equals("https") ? ":443" : ":80";
    if (request.method().equals("CONNECT") || !authority.endsWith(defaultPort)
        || authority.endsWith("]")) {
      return request;
    }
    return request.toBuilder()
        .authority(authority.substring(0, authority.length() - defaultPort.length())).build();
  }

  /** Returns this request with the trailer fields that followed its chunked body. */
  RecordedRequest withTrailers(Headers trailers) {
    return new RecordedRequest(head, body, Objects.requireNonNull(trailers, "trailers"));
  }

  /** The method, such as {@code POST}. */
  public String method() {
    return head.method();
  }

  /**
   * The absolute URL, {@code scheme://authority/target}, without the scheme's default port
   * ({@code https://host/path}, not {@code https://host:443/path}). A CONNECT, whose target is
   * an authority, has the URL of the origin it opens, with its port always written, as the
   * HAR export has it: {@code https://host:port/} ({@code https://host:443/} too).
   */
  public String url() {
    // It was the bare host:port, which no url(...) condition could match to the HAR (probe t24).
    return head.method().equals("CONNECT") ? "https://" + head.authority() + "/" : head.url();
  }

  /** {@code http} or {@code https}. */
  public String scheme() {
    return head.scheme();
  }

  /** The origin's {@code host[:port]}, without the scheme's default port. */
  public String authority() {
    return head.authority();
  }

  /** The origin's host name or address. */
  public String host() {
    return head.host();
  }

  /** The origin's port. */
  public int port() {
    return head.port();
  }

  /** The origin-form target, {@code /path?query}. */
  public String target() {
    return head.target();
  }

  /** The path of the target, without the query. */
  public String path() {
    return head.path();
  }

  /** The query of the target without the {@code ?}, if there is one. */
  public Optional<String> query() {
    return head.query();
  }

  /** {@code HTTP/1.1} or {@code HTTP/1.0}. */
  public String version() {
    return head.version();
  }

  /**
   * The header fields, in order and case as the client sent them, with the proxy's request ID and
   * trace context (see the class description).
   */
  public Headers headers() {
    return head.headers();
  }

  /** The first value of a header field, looked up case-insensitively. */
  public Optional<String> header(String name) {
    return head.headers().first(name);
  }

  /**
   * The trailer fields that followed a chunked body (RFC 9112 §7.1.2), in order; empty for
   * most requests. Exported to HAR in the custom field {@code _trailers}.
   */
  public Headers trailers() {
    return trailers;
  }

  /** The captured body. */
  public RecordedBody body() {
    return body;
  }

  /** The request head as an API value with an empty body, for building a new request from it. */
  public Request toRequest() {
    return head;
  }

  /**
   * Returns {@code POST http://host/path}, or for a CONNECT its request line's
   * {@code CONNECT host:port}.
   */
  @Override
  public String toString() {
    return method() + " " + (method().equals("CONNECT") ? authority() : url());
  }
}
