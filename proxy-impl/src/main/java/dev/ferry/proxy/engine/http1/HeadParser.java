package dev.ferry.proxy.engine.http1;

import dev.ferry.proxy.Headers;
import dev.ferry.proxy.engine.io.ConnectionInput;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Reads one message head (start line and header section) per RFC 9112 §2–§5, strictly: single
 * spaces in the start line, CRLF line ends in requests, token field names with no whitespace
 * before the colon, no obs-fold, no control characters in values. The whole header section
 * shares one byte budget, and the field count is capped.
 *
 * <p>A parser is made per head; it reads lines into the connection's scratch array, which grows
 * (for this head only) as far as the limits allow.
 */
public final class HeadParser {
  private static final int MAX_LEADING_EMPTY_LINES = 4;
  /**
   * Field names as clients and servers commonly spell them, returned as constants instead of a new
   * String per field; grouped by length. Any other spelling gets its own String as before.
   */
  private static final String[][] KNOWN_NAMES = NameSet.byLength("Accept", "Accept-Encoding",
      "Accept-Language", "Accept-Ranges", "Age", "Authorization", "Cache-Control", "Connection",
      "Content-Encoding", "Content-Length", "Content-Range", "Content-Type", "Cookie", "Date",
      "ETag", "Expect", "Expires", "Host", "If-Match", "If-Modified-Since", "If-None-Match",
      "Keep-Alive", "Last-Modified", "Location", "Origin", "Pragma", "Range", "Referer", "Server",
      "Set-Cookie", "Transfer-Encoding", "Upgrade", "User-Agent", "Vary", "Via",
      "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Request-Id", "accept",
      "accept-encoding", "content-length", "content-type", "date", "host", "server", "traceparent",
      "user-agent");

  /** The longest status line read from an upstream, without its CRLF. */
  public static final int MAX_STATUS_LINE_BYTES = 8 * 1024;

  private final ConnectionInput in;
  private final int maxStartLineBytes;
  private final int maxHeaderBytes;
  private final int maxHeaderCount;
  /** The loop's recent strings, or null (a connection's thread): see {@link RecentValues}. */
  private final RecentValues recent;
  private byte[] line;
  private int length;
  /** Whether the request read is a HEAD, once its request line is. */
  private boolean head;
  /** The request line's parts once it is read, and the fields read after it: see {@link #partialRequest}. */
  private String method;
  private String target;
  private int minor;
  private Headers.Builder requestFields;

  public HeadParser(ConnectionInput in, int maxStartLineBytes, int maxHeaderBytes, int maxHeaderCount) {
    this(in, in.lineScratch(), null, maxStartLineBytes, maxHeaderBytes, maxHeaderCount);
  }

  /**
   * A parser that reads lines into {@code scratch} rather than the connection's array: an event
   * loop's own, which its heads use one at a time (a connection's is dropped while it waits); and
   * takes the strings it makes from {@code recent} when they came lately, as the loop's are.
   */
  public HeadParser(ConnectionInput in, byte[] scratch, RecentValues recent, int maxStartLineBytes,
      int maxHeaderBytes, int maxHeaderCount) {
    this.in = in;
    this.maxStartLineBytes = maxStartLineBytes;
    this.maxHeaderBytes = maxHeaderBytes;
    this.maxHeaderCount = maxHeaderCount;
    this.recent = recent;
    this.line = scratch;
  }

  /**
   * Whether the request whose head failed to parse is a HEAD, as far as can be told: from its
   * request line, or from the start of one too long to finish. Its answer then has no body.
   */
  public boolean failedOnHeadRequest() {
    return head || (length >= 5 && line[0] == 'H' && line[1] == 'E' && line[2] == 'A'
        && line[3] == 'D' && line[4] == ' ');
  }

  /** Reads a request head; malformed input fails with 400, 414 or 431. */
  public RequestHead readRequest() throws IOException {
    int empty = 0;
    do {
      // RFC 9112 §2.2: ignore a few empty lines before the request line.
      // The limit is the request-line's (RFC 9112 §3), without its CRLF; the line read has its CR.
      readLine(withCr(maxStartLineBytes), false, ProxyFailure.URI_TOO_LONG, null);
    } while (length == 0 && ++empty <= MAX_LEADING_EMPTY_LINES);
    int sp1 = indexOf(' ', 0);
    int sp2 = sp1 < 0 ? -1 : indexOf(' ', sp1 + 1);
    if (sp1 <= 0 || sp2 < 0 || indexOf(' ', sp2 + 1) >= 0) {
      throw malformedRequest("request line must be METHOD SP target SP version");
    }
    for (int i = 0; i < sp1; i++) {
      if (!isTokenChar(line[i])) {
        throw malformedRequest("invalid character in method");
      }
    }
    if (sp2 == sp1 + 1) {
      throw malformedRequest("empty request-target");
    }
    for (int i = sp1 + 1; i < sp2; i++) {
      if (line[i] <= 0x20 || line[i] >= 0x7f) {
        throw malformedRequest("invalid character in request-target");
      }
    }
    minor = parseVersion(sp2 + 1, length, true);
    method = recentString(0, sp1);
    head = method.equals("HEAD");
    // A query may carry a token: such a target is not kept for the next request.
    target = recent == null || hasQuery(sp1 + 1, sp2) ? string(sp1 + 1, sp2)
        : recent.of(line, sp1 + 1, sp2);
    requestFields = Headers.builder();
    Headers headers = readHeaders(false, requestFields);
    return new RequestHead(method, target, minor, headers);
  }

  /**
   * What was read of a request head that failed after its request line (a malformed field, too
   * many, too slow): the request line and the fields before the failure, so that its answer and
   * its log line keep what is known (its request ID, method and target); null if the request
   * line itself failed.
   */
  public RequestHead partialRequest() {
    return requestFields == null ? null : new RequestHead(method, target, minor, requestFields.build());
  }

  /**
   * More bytes than {@link #readResponse} takes, with {@code maxHeaderBytes}, before it returns or
   * fails on a limit: the longest status line with its CRLF, the header section's budget (which
   * counts its lines' ends), the LF of a line that ends just past the budget, and a byte to
   * spare, so that the line after it finds a byte to fail on rather than reading. A reader that
   * buffers a head whole before parsing it (an event loop) needs no larger buffer: with this
   * many bytes buffered and no end of head among them, the parse fails without reading more.
   */
  public static int largestResponseHead(int maxHeaderBytes) {
    return MAX_STATUS_LINE_BYTES + 2 + maxHeaderBytes + 2;
  }

  /** Reads a response head; anything malformed fails as a bad upstream response (502). */
  public ResponseHead readResponse() throws IOException {
    readLine(withCr(maxStartLineBytes), true, ProxyFailure.UPSTREAM_BAD_RESPONSE, "status line too long");
    if (length < 12 || line[8] != ' ') {
      throw badResponse("malformed status line");
    }
    int minorVersion = parseVersion(0, 8, false);
    int status = 0;
    for (int i = 9; i < 12; i++) {
      if (line[i] < '0' || line[i] > '9') {
        throw badResponse("malformed status code");
      }
      status = status * 10 + (line[i] - '0');
    }
    if (status < 100 || status > 599) {
      throw badResponse("status code out of range");
    }
    String reason = "";
    if (length > 12) {
      if (line[12] != ' ') {
        throw badResponse("malformed status line");
      }
      checkFieldValue(13, length, true);
      reason = recentString(13, length);
    }
    return new ResponseHead(minorVersion, status, reason, readHeaders(true, Headers.builder()));
  }

  /** Reads chunked-body trailer fields (RFC 9112 §7.1.2), sharing the header limits. */
  public Headers readTrailers(boolean response) throws IOException {
    return readHeaders(response, Headers.builder());
  }

  private Headers readHeaders(boolean response, Headers.Builder headers) throws IOException {
    int budget = maxHeaderBytes;
    int count = 0;
    ProxyFailure tooLarge = response ? ProxyFailure.UPSTREAM_BAD_RESPONSE : ProxyFailure.HEADERS_TOO_LARGE;
    while (true) {
      readLine(budget, response, tooLarge, "header section too large");
      budget -= length + 2;
      if (length == 0) {
        return headers.build();
      }
      if (++count > maxHeaderCount) {
        throw response ? badResponse("too many header fields")
            : new HttpFailureException(ProxyFailure.HEADERS_TOO_LARGE, "too many header fields");
      }
      if (line[0] == ' ' || line[0] == '\t') {
        throw fail(response, "obsolete line folding is not allowed");
      }
      int colon = indexOf(':', 0);
      if (colon <= 0) {
        throw fail(response, "header line without a field name and colon");
      }
      int start = colon + 1;
      int end = length;
      while (start < end && (line[start] == ' ' || line[start] == '\t')) {
        start++;
      }
      while (end > start && (line[end - 1] == ' ' || line[end - 1] == '\t')) {
        end--;
      }
      try {
        // Headers.Builder checks what RFC 9112 asks of a field (a token for its name, no control
        // character in its value): one pass over each; the parser only says which part failed.
        String name = fieldName(colon);
        headers.add(name, recent != null && RecentValues.keeps(name) ? recent.of(line, start, end)
            : string(start, end));
      } catch (IllegalArgumentException e) {
        throw fail(response, validName(colon) ? "control character in field value"
            : "invalid character in field name (whitespace before colon?)");
      }
    }
  }

  /** True if the line's first {@code length} bytes are a field name: tchar only. */
  private boolean validName(int length) {
    for (int i = 0; i < length; i++) {
      if (!isTokenChar(line[i])) {
        return false;
      }
    }
    return true;
  }

  /** A limit on a line without its CRLF, as a limit on the line {@link #readLine} reads (with its CR). */
  private static int withCr(int lineBytes) {
    return lineBytes == Integer.MAX_VALUE ? lineBytes : lineBytes + 1;
  }

  /**
   * Reads up to LF into {@link #line}, without the line end; past {@code max}, fails as
   * {@code overflow} with {@code detail} (null: the request line's, naming its limit).
   * Every line must end with CRLF, in
   * responses too: RFC 9112 §2.2 lets a recipient accept a bare LF, but an upstream that reflects
   * input into a field value could then split one field into two (a {@code Set-Cookie} of the
   * attacker's choosing), so a bare LF is a bad request or a bad response (502).
   */
  private void readLine(int max, boolean response, ProxyFailure overflow, String detail)
      throws IOException {
    length = 0;
    while (true) {
      if (length == line.length && length < max) {
        line = Arrays.copyOf(line, Math.min(line.length * 2, Math.max(max, 256) + 1));
      }
      int moved = in.moveLine(line, length, Math.max(0, Math.min(line.length, max) - length));
      length += moved & ~ConnectionInput.LINE_ENDED;
      if ((moved & ConnectionInput.LINE_ENDED) != 0) {
        if (length == 0 || line[length - 1] != '\r') {
          throw fail(response, "line must end with CRLF");
        }
        length--;
        return;
      }
      if (length >= max) {
        // A request line's detail names its limit, built only when it is exceeded.
        throw new HttpFailureException(overflow, detail != null ? detail : "over " + maxStartLineBytes + " bytes");
      }
    }
  }

  private int parseVersion(int from, int to, boolean request) throws HttpFailureException {
    if (to - from != 8 || line[from] != 'H' || line[from + 1] != 'T' || line[from + 2] != 'T'
        || line[from + 3] != 'P' || line[from + 4] != '/' || line[from + 6] != '.'
        || !isDigit(line[from + 5]) || !isDigit(line[from + 7])) {
      throw request ? malformedRequest("malformed HTTP version") : badResponse("malformed HTTP version");
    }
    if (line[from + 5] != '1') {
      if (request) {
        throw new HttpFailureException(ProxyFailure.VERSION_NOT_SUPPORTED, "only HTTP/1.x is supported");
      }
      throw badResponse("unsupported HTTP version");
    }
    // RFC 9110 §2.5: a higher 1.x minor version is treated as the highest we speak.
    return line[from + 7] == '0' ? 0 : 1;
  }

  private void checkFieldValue(int from, int to, boolean response) throws HttpFailureException {
    for (int i = from; i < to; i++) {
      int c = line[i] & 0xff;
      if ((c < 0x20 && c != '\t') || c == 0x7f) {
        throw fail(response, "control character in field value");
      }
    }
  }

  private int indexOf(char c, int from) {
    for (int i = from; i < length; i++) {
      if (line[i] == c) {
        return i;
      }
    }
    return -1;
  }

  private String fieldName(int length) {
    if (length < KNOWN_NAMES.length) {
      for (String known : KNOWN_NAMES[length]) {
        if (startsWith(known)) {
          return known;
        }
      }
    }
    return string(0, length);
  }

  private boolean startsWith(String text) {
    for (int i = 0; i < text.length(); i++) {
      if (line[i] != text.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  private String string(int from, int to) {
    return new String(line, from, to - from, StandardCharsets.ISO_8859_1);
  }

  private boolean hasQuery(int from, int to) {
    for (int i = from; i < to; i++) {
      if (line[i] == '?') {
        return true;
      }
    }
    return false;
  }

  /** The line's bytes {@code [from, to)} as a string, the same one as lately if the loop's table has it. */
  private String recentString(int from, int to) {
    return recent == null ? string(from, to) : recent.of(line, from, to);
  }

  private static boolean isDigit(byte b) {
    return b >= '0' && b <= '9';
  }

  static boolean isTokenChar(byte b) {
    return b > 0 && b < 0x7f && Tokens.isTokenChar((char) b);
  }

  private static HttpFailureException fail(boolean response, String detail) {
    return response ? badResponse(detail) : malformedRequest(detail);
  }

  private static HttpFailureException malformedRequest(String detail) {
    return new HttpFailureException(ProxyFailure.MALFORMED_REQUEST, detail);
  }

  private static HttpFailureException badResponse(String detail) {
    return new HttpFailureException(ProxyFailure.UPSTREAM_BAD_RESPONSE, detail);
  }
}
