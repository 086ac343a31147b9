package dev.ferry.proxy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.BiPredicate;

/**
 * Checks credentials before a request goes on. The proxy variant
 * ({@link Filters#proxyAuthentication()}) reads {@code Proxy-Authorization: Basic} and answers
 * 407 with {@code Proxy-Authenticate}; the credentials are never forwarded. The reverse-proxy
 * variant ({@link Filters#authentication()}) reads {@code Authorization: Basic} or
 * {@code Bearer} and answers 401 with {@code WWW-Authenticate}.
 *
 * <pre>{@code
 * Filter auth = Filters.proxyAuthentication().credentials(Map.of("alice", "s3cret")).realm("office").build();
 * }</pre>
 *
 * <p>Secrets are compared in constant time, so response timing does not reveal how much of a
 * guess was right.
 */
public final class Authentication implements Filter {
  private final boolean proxy;
  private final String realm;
  private final Map<String, byte[]> credentials;
  private final BiPredicate<String, String> checker;
  private final Set<String> bearerTokens;

  private Authentication(Builder builder) {
    this.proxy = builder.proxy;
    this.realm = builder.realm;
    this.credentials = Map.copyOf(builder.credentials);
    this.checker = builder.checker;
    this.bearerTokens = Set.copyOf(builder.bearerTokens);
  }

  static Builder builder(boolean proxy) {
    return new Builder(proxy);
  }

  @Override
  public Response handle(Exchange exchange, Chain chain) throws IOException {
    Request request = exchange.request();
    String header = proxy ? "Proxy-Authorization" : "Authorization";
    String value = request.headers().first(header).orElse("");
    if (!accepts(value.trim())) {
      int status = proxy ? 407 : 401;
      return Response.text(status, (proxy ? "Proxy authentication required" : "Authentication required") + "\n")
          .withHeader(proxy ? "Proxy-Authenticate" : "WWW-Authenticate",
              "Basic realm=\"" + realm + "\", charset=\"UTF-8\"");
    }
    return chain.proceed(proxy ? request.withoutHeader(header) : request);
  }

  private boolean accepts(String value) {
    if (value.regionMatches(true, 0, "Bearer ", 0, 7)) {
      byte[] token = value.substring(7).trim().getBytes(StandardCharsets.UTF_8);
      boolean found = false;
      for (String candidate : bearerTokens) {
        found |= MessageDigest.isEqual(candidate.getBytes(StandardCharsets.UTF_8), token);
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
    byte[] expected = credentials.get(user);
    byte[] given = password.getBytes(StandardCharsets.UTF_8);
    // Compare against something even for unknown users, so timing does not reveal which exist.
    boolean equal = MessageDigest.isEqual(expected != null ? expected : new byte[given.length + 1], given);
    return expected != null && equal;
  }

  @Override
  public String toString() {
    return (proxy ? "ProxyAuthentication" : "Authentication") + "(realm=" + realm + ")";
  }

  /**
   * A mutable builder of {@link Authentication}. Give credentials, a checker, or bearer tokens
   * (reverse variant only). Not thread-safe.
   */
  public static final class Builder {
    private final boolean proxy;
    private final Map<String, byte[]> credentials = new HashMap<>();
    private final Set<String> bearerTokens = new HashSet<>();
    private BiPredicate<String, String> checker;
    private String realm = "ferry";

    private Builder(boolean proxy) {
      this.proxy = proxy;
    }

    /**
     * Accepts these user names and passwords.
     *
     * @throws IllegalArgumentException if a user name is empty or holds a colon
     */
    public Builder credentials(Map<String, String> usersAndPasswords) {
      Objects.requireNonNull(usersAndPasswords, "usersAndPasswords");
      usersAndPasswords.forEach((user, password) -> {
        if (user.isEmpty() || user.indexOf(':') >= 0) {
          throw new IllegalArgumentException("user name must be non-empty and without ':' (was " + user + ")");
        }
        credentials.put(user, password.getBytes(StandardCharsets.UTF_8));
      });
      return this;
    }

    /**
     * Decides Basic credentials with a callback instead of a map, for example against a user
     * store. It is called on connection threads and must be thread-safe and quick.
     */
    public Builder checker(BiPredicate<String, String> checker) {
      this.checker = Objects.requireNonNull(checker, "checker");
      return this;
    }

    /**
     * Accepts {@code Authorization: Bearer} with one of these tokens (reverse variant).
     *
     * @throws IllegalStateException on the proxy variant, where Bearer is not a standard scheme
     */
    public Builder bearerTokens(Set<String> tokens) {
      if (proxy) {
        throw new IllegalStateException("bearerTokens is for Filters.authentication(), not proxyAuthentication()");
      }
      Objects.requireNonNull(tokens, "tokens").forEach(token -> bearerTokens.add(Objects.requireNonNull(token)));
      return this;
    }

    /**
     * The realm named in the challenge; default {@code ferry}.
     *
     * @throws IllegalArgumentException if it holds a quote, backslash or control character
     */
    public Builder realm(String realm) {
      Objects.requireNonNull(realm, "realm");
      if (realm.chars().anyMatch(c -> c == '"' || c == '\\' || c < 0x20 || c == 0x7f)) {
        throw new IllegalArgumentException("realm must not contain quotes or control characters (was " + realm + ")");
      }
      this.realm = realm;
      return this;
    }

    /**
     * Returns the filter.
     *
     * @throws IllegalStateException if no credentials, checker or tokens were given
     */
    public Authentication build() {
      if (credentials.isEmpty() && checker == null && bearerTokens.isEmpty()) {
        throw new IllegalStateException("authentication needs credentials(...), checker(...) or bearerTokens(...)");
      }
      return new Authentication(this);
    }
  }
}
