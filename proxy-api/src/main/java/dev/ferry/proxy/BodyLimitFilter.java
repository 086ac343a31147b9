package dev.ferry.proxy;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/** Enforces a request body limit from Content-Length first, then while the body streams. */
final class BodyLimitFilter implements Filter {
  private final long maxBytes;

  BodyLimitFilter(long maxBytes) {
    if (maxBytes < 0) {
      throw new IllegalArgumentException("maxBytes must not be negative (was " + maxBytes + ")");
    }
    this.maxBytes = maxBytes;
  }

  @Override
  public Response handle(Exchange exchange, Chain chain) throws IOException {
    Request request = exchange.request();
    Body body = request.body();
    if (body.contentLength() > maxBytes) {
      // The engine drains a small unread body or closes the connection after this answer.
      return Response.text(413, "Request body too large: limit is " + maxBytes + " bytes\n");
    }
    if (body.contentLength() >= 0) {
      return chain.proceed(request);
    }
    return chain.proceed(request.withBody(new LimitedBody(body, maxBytes)));
  }

  @Override
  public String toString() {
    return "maxRequestBodyBytes(" + maxBytes + ")";
  }

  /** A body of unknown length that fails once it passes the limit. */
  private static final class LimitedBody implements Body {
    private final Body body;
    private final long maxBytes;

    LimitedBody(Body body, long maxBytes) {
      this.body = body;
      this.maxBytes = maxBytes;
    }

    @Override
    public long contentLength() {
      return -1;
    }

    @Override
    public Headers trailers() {
      return body.trailers();
    }

    @Override
    public InputStream stream() throws IOException {
      return new FilterInputStream(body.stream()) {
        private long count;

        @Override
        public int read() throws IOException {
          byte[] one = new byte[1];
          int n = read(one, 0, 1);
          return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] target, int offset, int length) throws IOException {
          int n = super.read(target, offset, length);
          if (n > 0 && (count += n) > maxBytes) {
            throw new ContentTooLargeException("request body exceeds " + maxBytes + " bytes");
          }
          return n;
        }
      };
    }
  }
}
