package dev.ferry.proxy.engine;

import dev.ferry.proxy.Headers;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.engine.http1.DateField;
import dev.ferry.proxy.engine.http1.Framing;
import dev.ferry.proxy.engine.http1.HopByHop;
import dev.ferry.proxy.engine.http1.NameSet;
import dev.ferry.proxy.engine.http1.ResponseHead;

/**
 * A response's head as it goes to the client, and the framing of its body for this client (RFC
 * 9112 §6): the rules {@link ResponseSender} applies, apart from the writes that carry them.
 *
 * @param fields the head's fields: the response's without its hop-by-hop ones, with a
 *     {@code Date} if it had none, the framing chosen here and {@code Connection} as needed
 * @param bodiless no body follows the head (HEAD, 1xx, 204, 304, a tunnel's 101 or 200)
 * @param length the body's length when it is known, else -1
 * @param chunked the body goes chunked (an HTTP/1.1 client, the length unknown)
 * @param closeDelimited the body ends where the connection does (an HTTP/1.0 client, the length
 *     unknown)
 */
record ClientHead(Headers fields, boolean bodiless, long length, boolean chunked, boolean closeDelimited) {
  private static final NameSet CONTENT_LENGTH = NameSet.of("content-length");
  private static final NameSet CONTENT_LENGTH_AND_TRAILER = NameSet.of("content-length", "trailer");
  /** Fields of a relayed interim response that are not passed on as received. */
  private static final NameSet INTERIM_DROP = NameSet.of("content-length", "via");

  /**
   * Frames {@code response} for a client speaking HTTP/1.{@code clientMinor}, with field
   * {@code setName} set to {@code setValue} (the exchange's request ID; none if null).
   *
   * @param close the connection closes after this response
   * @param tunnel the response opens a tunnel: its head goes as it is, with no framing
   */
  static ClientHead frame(Response response, String setName, String setValue, boolean headRequest,
      int clientMinor, boolean close, boolean tunnel) {
    int status = response.status();
    boolean bodiless = headRequest || status < 200 || status == 204 || status == 304 || tunnel;
    long length = bodiless ? 0 : response.body().contentLength();
    boolean chunked = false;
    boolean closeDelimited = false;
    // HEAD and 304 answers keep the Content-Length of the representation (RFC 9110 §8.6);
    // everything else is framed here, once, in a single pass over the fields.
    boolean keepLength = bodiless && !tunnel && status >= 200 && status != 204;
    Headers.Builder fields = Headers.builder();
    // A Trailer field announces a trailer section, which only chunked framing has: one that goes
    // with a length or to an HTTP/1.0 client (a cache hit of a chunked fill) would mislead.
    boolean trailerSection = !bodiless && length < 0 && clientMinor == 1;
    HopByHop.strip(response.headers(), status == 101,
        bodiless || trailerSection ? CONTENT_LENGTH : CONTENT_LENGTH_AND_TRAILER, fields);
    if (keepLength) {
      // Kept as one value, as nginx does: repeats ("5, 5", or two fields) or a value that is no
      // length (probe s12: "5, 6", "abc", "-1") fail strict clients, such as Node's, and frame
      // nothing here; an invalid one goes.
      long representation = Framing.contentLength(response.headers());
      if (representation >= 0) {
        fields.add("Content-Length", Long.toString(representation));
      }
    }
    if (setName != null) {
      fields.set(setName, setValue);
    }
    if (!tunnel && !response.headers().contains("Date")) {
      // The proxy's own answers (errors, filters', admin, cache-less 200s): RFC 9110 §6.6.1 asks
      // a sender with a clock for a Date; relayed and cached responses carry theirs already.
      fields.add("Date", DateField.now());
    }
    if (!bodiless) {
      if (length >= 0) {
        fields.add("Content-Length", Long.toString(length));
      } else if (clientMinor == 1) {
        fields.add("Transfer-Encoding", "chunked");
        chunked = true;
      } else {
        closeDelimited = true;
      }
    }
    if (!tunnel) {
      if (close || closeDelimited) {
        fields.add("Connection", "close");
      } else if (clientMinor == 0) {
        fields.add("Connection", "keep-alive");
      }
    }
    return new ClientHead(fields.build(), bodiless, length, chunked, closeDelimited);
  }

  /**
   * A relayed 1xx head's fields. A 1xx has no content, so a Content-Length in it (which RFC 9110
   * §8.6 forbids) is dropped, not passed on to mislead.
   */
  static Headers interim(ResponseHead interim) {
    Headers.Builder fields = Headers.builder();
    HopByHop.strip(interim.headers(), false, INTERIM_DROP, fields);
    // RFC 9110 §7.6.3: a proxy adds Via to every message it forwards, interim ones included.
    fields.add("Via", HopByHop.via(interim.headers(), interim.minorVersion()));
    if (!interim.headers().contains("Date")) {
      // §6.6.1: a recipient with a clock adds the Date a response it forwards lacks, 1xx included.
      fields.add("Date", DateField.now());
    }
    return fields.build();
  }
}
