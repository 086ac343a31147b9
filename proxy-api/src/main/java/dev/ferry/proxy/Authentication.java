package dev.ferry.proxy;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiPredicate;

/**
 * A credentials check before a request goes on. The proxy variant
 * ({@link Filters#proxyAuthentication()}) reads {@code Proxy-Authorization: Basic} and answers
 * 407 with {@code Proxy-Authenticate}; the credentials are never forwarded. The reverse-proxy
 * variant ({@link Filters#authentication()}) reads {@code Authorization: Basic} or
 * {@code Bearer} and answers 401 with {@code WWW-Authenticate}. A request carrying the field
 * more than once is answered the same, whatever the fields hold: an origin could read another one
 * than the proxy checked.
 *
 * <pre>{@code
 * Filter auth = Filters.proxyAuthentication().credentials(Map.of("alice", "s3cret")).realm("office").build();
 * }</pre>
 *
 * <p>Secrets are compared in constant time, so response timing does not reveal how much of a
 * guess was right, and never appear in {@link #toString()} or in logs.
 *
 * <p>This is a configuration value; the engine supplies the behaviour.
 */
public final class Authentication implements Filter {
  private final boolean proxy;
  private final String realm;
  private final Map<String, String> credentials;
  private final BiPredicate<String, String> checker;
  private final Set<String> bearerTokens;
  private final Realised realised = new Realised(this);

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

  /** True for {@code Proxy-Authorization} and 407, false for {@code Authorization} and 401. */
  public boolean checksProxyAuthorization() {
    return proxy;
  }

  /** The realm named in the challenge. */
  public String realm() {
    return realm;
  }

  /** The accepted user names and their passwords (secret: keep them out of logs). */
  public Map<String, String> credentials() {
    return credentials;
  }

  /** The callback that decides Basic credentials, if one was given. */
  public Optional<BiPredicate<String, String>> checker() {
    return Optional.ofNullable(checker);
  }

  /** The accepted {@code Bearer} tokens (secret: keep them out of logs). */
  public Set<String> bearerTokens() {
    return bearerTokens;
  }

  /** Runs the engine's implementation of this check. */
  @Override
  public Response handle(Exchange exchange, Chain chain) throws IOException {
    return realised.handle(exchange, chain);
  }

  /** Names the variant and realm, never a secret. */
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
    private final Map<String, String> credentials = new LinkedHashMap<>();
    private final Set<String> bearerTokens = new LinkedHashSet<>();
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
          throw new IllegalArgumentException("user name must be non-empty and without ':' (was "
              + Checks.shown(user) + ")");
        }
        credentials.put(user, Objects.requireNonNull(password, "password"));
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
        throw new IllegalArgumentException("realm must not contain quotes or control characters (was "
            + Checks.shown(realm) + ")");
      }
      this.realm = realm;
      return this;
    }

    /**
     * Returns the check.
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
