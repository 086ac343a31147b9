package dev.ferry.proxy;

import java.util.Locale;
import java.util.Objects;

/**
 * An immutable HTTP response as it travels back through Ferry's filter chain.
 *
 * <p>A filter can answer by itself by returning a response it built:
 *
 * <pre>{@code
 * return Response.builder()
 *     .status(403)
 *     .header("Content-Type", "text/plain")
 *     .body(Body.of("denied"))
 *     .build();
 * }</pre>
 *
 * <p>The engine sets the framing ({@code Content-Length} or chunked) from the body when it writes
 * the response; framing and hop-by-hop fields set here are replaced.
 */
public final class Response {
  private final int status;
  private final String reason;
  private final Headers headers;
  private final Body body;

  private Response(Builder builder) {
    this.status = builder.status;
    this.reason = builder.reason != null ? builder.reason : ReasonPhrases.of(builder.status);
    this.headers = builder.headers;
    this.body = builder.body;
  }

  /** Returns a builder for an empty {@code 200 OK}. */
  public static Builder builder() {
    return new Builder();
  }

  /** Returns a short {@code text/plain} response, as the proxy's own answers are. */
  public static Response text(int status, String text) {
    return builder()
        .status(status)
        .header("Content-Type", "text/plain; charset=utf-8")
        .body(Body.of(text))
        .build();
  }

  /** Returns a builder that starts as a copy of this response. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** The status code, 100 to 599. */
  public int status() {
    return status;
  }

  /** The reason phrase; the standard one for the status unless another was set. */
  public String reason() {
    return reason;
  }

  /** The header fields. */
  public Headers headers() {
    return headers;
  }

  /** The body; {@link Body#empty()} when there is none. */
  public Body body() {
    return body;
  }

  /** Returns a copy in which {@code name} has the single value {@code value}. */
  public Response withHeader(String name, String value) {
    return toBuilder().headers(headers.with(name, value)).build();
  }

  /** Returns a copy without any field named {@code name}. */
  public Response withoutHeader(String name) {
    return toBuilder().headers(headers.without(name)).build();
  }

  /** Returns a copy with these header fields instead. */
  public Response withHeaders(Headers headers) {
    return toBuilder().headers(headers).build();
  }

  /** Returns a copy with this body instead. */
  public Response withBody(Body body) {
    return toBuilder().body(body).build();
  }

  /** Returns {@code 200 OK}. */
  @Override
  public String toString() {
    return status + " " + reason;
  }

  /**
   * A mutable builder of {@link Response}. Not thread-safe.
   */
  public static final class Builder {
    private int status = 200;
    private String reason;
    private Headers headers = Headers.empty();
    private Body body = Body.empty();

    private Builder() {}

    private Builder(Response response) {
      status = response.status;
      reason = response.reason;
      headers = response.headers;
      body = response.body;
    }

    /**
     * Sets the status code; default 200. The reason phrase follows it unless set.
     *
     * @throws IllegalArgumentException unless the code is between 100 and 599
     */
    public Builder status(int status) {
      if (status < 100 || status > 599) {
        throw new IllegalArgumentException("status must be between 100 and 599 (was " + status + ")");
      }
      if (this.status != status) {
        reason = null;
      }
      this.status = status;
      return this;
    }

    /**
     * Sets the reason phrase.
     *
     * @throws IllegalArgumentException if it holds CR, LF or another control character
     */
    public Builder reason(String reason) {
      Objects.requireNonNull(reason, "reason");
      for (int i = 0; i < reason.length(); i++) {
        char c = reason.charAt(i);
        if ((c < 0x20 && c != '\t') || c == 0x7f || c > 0xff) {
          throw new IllegalArgumentException(String.format(Locale.ROOT,
              "Unexpected char %#04x at %d in reason phrase", (int) c, i));
        }
      }
      this.reason = reason;
      return this;
    }

    /** Replaces all header fields. */
    public Builder headers(Headers headers) {
      this.headers = Objects.requireNonNull(headers, "headers");
      return this;
    }

    /** Adds one header field at the end. */
    public Builder header(String name, String value) {
      this.headers = headers.plus(name, value);
      return this;
    }

    /** Sets the body; default {@link Body#empty()}. */
    public Builder body(Body body) {
      this.body = Objects.requireNonNull(body, "body");
      return this;
    }

    /** Returns the immutable response. */
    public Response build() {
      return new Response(this);
    }
  }
}
