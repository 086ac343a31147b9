package dev.ferry.proxy.engine.filter;

import dev.ferry.proxy.Authentication;
import dev.ferry.proxy.Exchange;
import dev.ferry.proxy.Filter;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.engine.http1.ProxyFailure;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiPredicate;
import java.util.function.Function;

/**
 * The engine's {@link Authentication}: Basic (and, in the reverse variant, Bearer) credentials
 * checked in constant time, answered 407 or 401 with a challenge. The proxy variant removes
 * {@code Proxy-Authorization} before the request goes on (RFC 9110 §11.7.2: it is for this hop).
 * A request inside an intercepted TLS session without credentials of its own is checked with
 * those of the CONNECT that opened the session ({@link TunnelCredentials}). A request with more
 * than one credentials field is refused, whatever they hold.
 */
final class AuthenticationFilter implements Filter, HeadCheck {
  private final Authentication config;
  private final String header;
  private final Map<String, byte[]> passwords = new HashMap<>();
  private final List<byte[]> tokens = new ArrayList<>();
  private final BiPredicate<String, String> checker;

  AuthenticationFilter(Authentication config) {
    this.config = config;
    this.header = config.checksProxyAuthorization() ? "Proxy-Authorization" : "Authorization";
    config.credentials().forEach((user, password) -> passwords.put(user, utf8(password)));
    config.bearerTokens().forEach(token -> tokens.add(utf8(token)));
    this.checker = config.checker().orElse(null);
  }

  @Override
  public Response handle(Exchange exchange, Chain chain) throws IOException {
    Request request = exchange.request();
    String value = credentials(request);
    if (value == null) {
      value = !config.checksProxyAuthorization() ? ""
          : exchange.attribute(TunnelCredentials.class).map(TunnelCredentials::proxyAuthorization).orElse("").trim();
    }
    if (!accepts(value)) {
      exchange.attribute(ProxyAnswer.class, new ProxyAnswer(failure()));
      return challenge();
    }
    return chain.proceed(passedOn(request));
  }

  private ProxyFailure failure() {
    return config.checksProxyAuthorization()
        ? ProxyFailure.PROXY_AUTHENTICATION_REQUIRED : ProxyFailure.AUTHENTICATION_REQUIRED;
  }

  /** The answer to a request without credentials this filter accepts: 407 or 401, with the challenge. */
  private Response challenge() {
    boolean proxy = config.checksProxyAuthorization();
    return Response.text(proxy ? 407 : 401,
            (proxy ? "Proxy authentication required" : "Authentication required") + "\n")
        .withHeader(proxy ? "Proxy-Authenticate" : "WWW-Authenticate",
            "Basic realm=\"" + config.realm() + "\", charset=\"UTF-8\"");
  }

  /** The application's checker may block: only credentials given in the configuration are checked on a loop. */
  @Override
  public boolean onLoop(boolean forward) {
    return checker == null;
  }

  /**
   * A loop's request carries its own credentials: no CONNECT opened a session for it (a session's
   * requests are the threads').
   */
  @Override
  public Request passes(Request request, InetSocketAddress client, boolean forward) {
    String value = credentials(request);
    return value != null && accepts(value) ? passedOn(request) : null;
  }

  @Override
  public Refusal refusal(Request request, InetSocketAddress client, boolean forward) {
    return Refusal.answer(challenge(), failure());
  }

  /**
   * The request's one credentials field, trimmed; null if it has none, empty (refused) if it has
   * more than one. Credentials are one field (RFC 9110 §11.6.2, §11.7.2): with two, the proxy
   * and the origin could each read a different one, so the proxy accepts neither.
   */
  private String credentials(Request request) {
    List<String> given = request.headers().all(header);
    return given.isEmpty() ? null : given.size() == 1 ? given.get(0).trim() : "";
  }

  private Request passedOn(Request request) {
    return config.checksProxyAuthorization() ? request.withoutHeader(header) : request;
  }

  /**
   * True if a request whose credentials field reads {@code value} (null: none, or more than one)
   * is refused, whatever it carries next: what the proxy checks before it awaits a body.
   */
  boolean refuses(Function<String, String> field) {
    String value = field.apply(header.toLowerCase(Locale.ROOT));
    return value == null || !accepts(value.trim());
  }

  private boolean accepts(String value) {
    if (value.regionMatches(true, 0, "Bearer ", 0, 7)) {
      byte[] token = utf8(value.substring(7).trim());
      boolean found = false;
      for (byte[] candidate : tokens) {
        found |= MessageDigest.isEqual(candidate, token); // no early exit: timing tells nothing
      }
      return found;
    }
    if (!value.regionMatches(true, 0, "Basic ", 0, 6)) {
      return false;
    }
    String decoded;
    try {
      decoded = new String(Base64.getDecoder().decode(value.substring(6).trim()), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return false;
    }
    int colon = decoded.indexOf(':');
    if (colon < 0) {
      return false;
    }
    String user = decoded.substring(0, colon);
    String password = decoded.substring(colon + 1);
    if (checker != null) {
      return checker.test(user, password);
    }
    byte[] expected = passwords.get(user);
    byte[] given = utf8(password);
    // Compare against something even for unknown users, so timing does not reveal which exist.
    boolean equal = MessageDigest.isEqual(expected != null ? expected : new byte[given.length + 1], given);
    return expected != null && equal;
  }

  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public String toString() {
    return config.toString();
  }
}
