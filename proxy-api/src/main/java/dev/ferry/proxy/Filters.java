package dev.ferry.proxy;

import dev.ferry.proxy.spi.RequestRewrite;
import dev.ferry.proxy.spi.ResponseRewrite;
import java.util.Objects;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * Factories for the filters every proxy needs. Each returns an immutable, thread-safe
 * {@link Filter}; register them in the order they should run. Access control, authentication and
 * the limits are configuration values whose behaviour the engine supplies; the rest are plain
 * filters on the public API. The set, add, remove and rename header rewrites are also
 * {@link dev.ferry.proxy.spi.RequestRewrite}s or {@link dev.ferry.proxy.spi.ResponseRewrite}s,
 * which, with access control, rate limits and credentials checks, a proxy runs on its event
 * loops (with a cache, a forward proxy's rules on addresses send requests to names to the
 * threads), answering there what they
 * refuse ({@link ProxyServer.Builder#eventLoop}); other filters keep its requests on threads.
 *
 * <pre>{@code
 * ProxyServer.builder()
 *     .filter(Filters.accessControl().allowClients("10.0.0.0/8", "::1/128").denyHosts("*.ads.example").build())
 *     .filter(Filters.rateLimit().perSecond(50).burst(100).build())
 *     .filter(Filters.proxyAuthentication().credentials(Map.of("alice", "s3cret")).build())
 *     .filter(Filters.maxInFlightPerClient(8))
 *     .filter(Filters.setRequestHeader("X-Env", "test"))
 *     .filter(Filters.stripPathPrefix("/api"));
 * }</pre>
 */
public final class Filters {
  private Filters() {}

  /**
   * A header set by a filter, validated when the filter is made: the proxy sets Host, framing and
   * hop-by-hop fields itself, so one set here would be dropped or overwritten without a word.
   */
  private static void checkSettable(String filter, String name, String value) {
    Headers.checkName(name);
    Headers.checkValue(value, name);
    if (Headers.isProxyManaged(name)) {
      throw new IllegalArgumentException(filter + " cannot set " + name
          + ": the proxy manages Host, message framing and hop-by-hop headers"
          + (name.trim().equalsIgnoreCase("host") ? "; Filters.rewriteHost(...) changes the Host the upstream gets" : ""));
    }
    if (name.trim().equalsIgnoreCase("expect")) {
      // Never sent on: the proxy answers 100-continue itself (probe d25: accepted, then dropped).
      throw new IllegalArgumentException(filter + " cannot set Expect: the proxy answers "
          + "Expect: 100-continue itself and sends no Expect upstream");
    }
  }

  /**
   * Sets request header {@code name} to {@code value}, replacing any it had.
   *
   * @throws IllegalArgumentException if the name or value is invalid, or the name is one the
   *     proxy manages ({@link Headers#isProxyManaged}): for Host, use {@link #rewriteHost}; or
   *     {@code Expect}, which the proxy answers and never sends on
   */
  public static Filter setRequestHeader(String name, String value) {
    checkSettable("setRequestHeader", name, value);
    return rewriting("setRequestHeader(" + name + ")", request -> request.withHeader(name, value));
  }

  /**
   * Adds request header {@code name: value}, keeping existing ones.
   *
   * @throws IllegalArgumentException as {@link #setRequestHeader} does
   */
  public static Filter addRequestHeader(String name, String value) {
    checkSettable("addRequestHeader", name, value);
    return rewriting("addRequestHeader(" + name + ")",
        request -> request.withHeaders(request.headers().plus(name, value)));
  }

  /** Removes every request header named {@code name}. */
  public static Filter removeRequestHeader(String name) {
    Headers.checkName(name);
    return rewriting("removeRequestHeader(" + name + ")", request -> request.withoutHeader(name));
  }

  /** Renames request header {@code from} to {@code to}, keeping its values and position. */
  public static Filter renameRequestHeader(String from, String to) {
    Headers.checkName(from);
    Headers.checkName(to);
    return rewriting("renameRequestHeader(" + from + " -> " + to + ")",
        request -> request.withHeaders(rename(request.headers(), from, to)));
  }

  /**
   * Sets response header {@code name} to {@code value}, replacing any it had.
   *
   * @throws IllegalArgumentException if the name or value is invalid, or the name is one the
   *     proxy manages ({@link Headers#isProxyManaged})
   */
  public static Filter setResponseHeader(String name, String value) {
    checkSettable("setResponseHeader", name, value);
    return rewritingResponse("setResponseHeader(" + name + ")", response -> response.withHeader(name, value));
  }

  /**
   * Adds response header {@code name: value}, keeping existing ones.
   *
   * @throws IllegalArgumentException as {@link #setResponseHeader} does
   */
  public static Filter addResponseHeader(String name, String value) {
    checkSettable("addResponseHeader", name, value);
    return rewritingResponse("addResponseHeader(" + name + ")",
        response -> response.withHeaders(response.headers().plus(name, value)));
  }

  /** Removes every response header named {@code name}. */
  public static Filter removeResponseHeader(String name) {
    Headers.checkName(name);
    return rewritingResponse("removeResponseHeader(" + name + ")", response -> response.withoutHeader(name));
  }

  /** Renames response header {@code from} to {@code to}, keeping its values and position. */
  public static Filter renameResponseHeader(String from, String to) {
    Headers.checkName(from);
    Headers.checkName(to);
    return rewritingResponse("renameResponseHeader(" + from + " -> " + to + ")",
        response -> response.withHeaders(rename(response.headers(), from, to)));
  }

  /**
   * Replaces, in every value of request header {@code name}, each match of {@code regex} with
   * {@code replacement} ({@link java.util.regex.Matcher#replaceAll} syntax, {@code $1} for
   * groups).
   *
   * @throws IllegalArgumentException if the regex is invalid or holds a control character
   */
  public static Filter replaceRequestHeader(String name, String regex, String replacement) {
    Headers.checkName(name);
    Pattern pattern = Checks.regex("replaceRequestHeader regex", regex);
    Objects.requireNonNull(replacement, "replacement");
    return named("replaceRequestHeader(" + name + ", " + regex + ")", (exchange, chain) ->
        chain.proceed(exchange.request().withHeaders(
            replace(exchange.request().headers(), name, pattern, replacement))));
  }

  /**
   * Like {@link #replaceRequestHeader}, on the response.
   *
   * @throws IllegalArgumentException if the regex is invalid or holds a control character
   */
  public static Filter replaceResponseHeader(String name, String regex, String replacement) {
    Headers.checkName(name);
    Pattern pattern = Checks.regex("replaceResponseHeader regex", regex);
    Objects.requireNonNull(replacement, "replacement");
    return named("replaceResponseHeader(" + name + ", " + regex + ")", (exchange, chain) -> {
      Response response = chain.proceed(exchange.request());
      return response.withHeaders(replace(response.headers(), name, pattern, replacement));
    });
  }

  /**
   * Removes {@code prefix} from the start of request paths that have it: with {@code /api},
   * {@code /api/users?id=1} becomes {@code /users?id=1} and {@code /api} becomes {@code /}.
   *
   * @throws IllegalArgumentException unless the prefix starts with {@code /}
   */
  public static Filter stripPathPrefix(String prefix) {
    String normalized = pathPrefix(prefix);
    return named("stripPathPrefix(" + normalized + ")", (exchange, chain) -> {
      Request request = exchange.request();
      String target = request.target();
      if (!target.startsWith("/") || !hasPathPrefix(request.path(), normalized)) {
        return chain.proceed(request);
      }
      String rest = target.substring(normalized.length());
      return chain.proceed(request.withTarget(rest.isEmpty() || rest.startsWith("?") ? "/" + rest : rest));
    });
  }

  /**
   * Puts {@code prefix} before every origin-form request path: with {@code /v2}, {@code /users}
   * becomes {@code /v2/users}.
   *
   * @throws IllegalArgumentException unless the prefix starts with {@code /}
   */
  public static Filter addPathPrefix(String prefix) {
    String normalized = pathPrefix(prefix);
    return named("addPathPrefix(" + normalized + ")", (exchange, chain) -> {
      Request request = exchange.request();
      return request.target().startsWith("/")
          ? chain.proceed(request.withTarget(normalized + request.target()))
          : chain.proceed(request);
    });
  }

  /**
   * Rewrites the request-target ({@code /path?query}) with a regex, as
   * {@link java.util.regex.Matcher#replaceAll} does: {@code rewritePath("^/old/(.*)", "/new/$1")}.
   * A rewrite that does not yield an origin-form target is answered 500.
   *
   * @throws IllegalArgumentException if the regex is invalid or holds a control character
   */
  public static Filter rewritePath(String regex, String replacement) {
    Pattern pattern = Checks.regex("rewritePath regex", regex);
    Objects.requireNonNull(replacement, "replacement");
    return named("rewritePath(" + regex + ")", (exchange, chain) -> {
      Request request = exchange.request();
      if (!request.target().startsWith("/")) {
        return chain.proceed(request);
      }
      String target = pattern.matcher(request.target()).replaceAll(replacement);
      if (!target.startsWith("/")) {
        // Routing would find no route for it (a 404 that blames the client): the rewrite is wrong.
        throw new IllegalStateException("rewritePath(" + regex + ") made " + target
            + " of " + request.target() + ", which is not an origin-form target (/path)");
      }
      return chain.proceed(request.withTarget(target));
    });
  }

  /**
   * Sends requests with this {@code Host} (and authority): {@code rewriteHost("internal.example:8080")}.
   * In a reverse proxy the upstream gets this {@code Host} instead of its endpoint's (as with
   * {@code preserveHost}, but this name), and {@code X-Forwarded-Host} keeps the client's. The
   * cache keys on this host and keeps a copy per client host, as the upstream may answer each
   * otherwise (links built from {@code X-Forwarded-Host}); purge by the URL with this host.
   *
   * @throws IllegalArgumentException if it is not a valid {@code host[:port]}
   */
  public static Filter rewriteHost(String authority) {
    Authority.check(authority);
    return named("rewriteHost(" + authority + ")", (exchange, chain) -> chain.proceed(
        exchange.request().toBuilder().authority(authority)
            .headers(exchange.request().headers().with("Host", authority)).build()));
  }

  /**
   * Answers 429 to a client address that already has {@code max} exchanges in progress.
   *
   * @throws IllegalArgumentException unless at least 1
   */
  public static InFlightLimit maxInFlightPerClient(int max) {
    return new InFlightLimit(max);
  }

  /**
   * Applies {@code filter} only to requests that match {@code condition}; others pass straight
   * on. Use it to scope any filter to a route:
   * {@code Filters.when(r -> r.resolvedPath().startsWith("/login"), Filters.rateLimit().perSecond(1).build())}
   * (see {@link Request#resolvedPath()} for why not {@code path()}).
   */
  public static Filter when(Predicate<Request> condition, Filter filter) {
    Objects.requireNonNull(condition, "condition");
    Objects.requireNonNull(filter, "filter");
    return named("when(" + filter + ")", (exchange, chain) -> condition.test(exchange.request())
        ? filter.handle(exchange, chain) : chain.proceed(exchange.request()));
  }

  /**
   * Returns a builder of an access policy on client addresses, destination hosts, methods and
   * ports; see {@link AccessControl} for how host rules match.
   */
  public static AccessControl.Builder accessControl() {
    return AccessControl.builder();
  }

  /**
   * Returns a builder of a {@code Proxy-Authorization: Basic} check for forward proxies (407 and
   * {@code Proxy-Authenticate} without valid credentials; the field is never forwarded). A
   * reverse proxy's clients send {@code Authorization} instead: {@link ProxyServer.Builder#build()}
   * refuses this filter beside an upstream or a route; use {@link #authentication()} there.
   */
  public static Authentication.Builder proxyAuthentication() {
    return Authentication.builder(true);
  }

  /** Returns a builder of an {@code Authorization: Basic}/{@code Bearer} check for reverse proxies (401). */
  public static Authentication.Builder authentication() {
    return Authentication.builder(false);
  }

  /**
   * Returns a builder of a token-bucket rate limiter per client address (or per header value).
   * Keyed by address, register it before authentication, so that wrong passwords count too;
   * keyed by a header the client sends, after it (see {@link RateLimit.Builder#keyHeader}).
   */
  public static RateLimit.Builder rateLimit() {
    return RateLimit.builder();
  }

  private static boolean hasPathPrefix(String path, String prefix) {
    return path.equals(prefix) || path.startsWith(prefix + "/");
  }

  private static String pathPrefix(String prefix) {
    Objects.requireNonNull(prefix, "prefix");
    if (!prefix.startsWith("/") || prefix.contains("?") || prefix.contains(" ")) {
      throw new IllegalArgumentException("prefix must be a path starting with / (was " + prefix + ")");
    }
    String trimmed = prefix;
    while (trimmed.length() > 1 && trimmed.endsWith("/")) {
      trimmed = trimmed.substring(0, trimmed.length() - 1);
    }
    return trimmed.equals("/") ? "" : trimmed;
  }

  private static Headers rename(Headers headers, String from, String to) {
    Headers.Builder result = Headers.builder();
    for (int i = 0; i < headers.size(); i++) {
      result.add(headers.name(i).equalsIgnoreCase(from) ? to : headers.name(i), headers.value(i));
    }
    return result.build();
  }

  private static Headers replace(Headers headers, String name, Pattern pattern, String replacement) {
    Headers.Builder result = Headers.builder();
    for (int i = 0; i < headers.size(); i++) {
      String value = headers.value(i);
      result.add(headers.name(i), headers.name(i).equalsIgnoreCase(name)
          ? pattern.matcher(value).replaceAll(replacement) : value);
    }
    return result.build();
  }

  /**
   * A filter that only rewrites the request's header fields: an engine may apply it without
   * running the chain ({@link RequestRewrite}). Not for regular expressions, whose matching a
   * hostile value can make slow: a loop that ran one would stall every connection it serves.
   */
  private static Filter rewriting(String name, UnaryOperator<Request> rewrite) {
    return new RequestRewriting(name, rewrite);
  }

  /** As {@link #rewriting}, of the response's header fields ({@link ResponseRewrite}). */
  private static Filter rewritingResponse(String name, UnaryOperator<Response> rewrite) {
    return new ResponseRewriting(name, rewrite);
  }

  /** See {@link #rewritingResponse}; named for logs and error pages ({@link Filter}'s contract). */
  private record ResponseRewriting(String name, UnaryOperator<Response> operator)
      implements Filter, ResponseRewrite {
    @Override
    public Response handle(Exchange exchange, Chain chain) throws java.io.IOException {
      return rewrite(chain.proceed(exchange.request()));
    }

    @Override
    public Response rewrite(Response response) {
      return operator.apply(response);
    }

    @Override
    public String toString() {
      return name;
    }
  }

  /** See {@link #rewriting}; named for logs and error pages. */
  private record RequestRewriting(String name, UnaryOperator<Request> operator) implements Filter, RequestRewrite {
    @Override
    public Response handle(Exchange exchange, Chain chain) throws java.io.IOException {
      return chain.proceed(rewrite(exchange.request()));
    }

    @Override
    public Request rewrite(Request request) {
      return operator.apply(request);
    }

    @Override
    public String toString() {
      return name;
    }
  }

  static Filter named(String name, Filter filter) {
    return new Filter() {
      @Override
      public Response handle(Exchange exchange, Chain chain) throws java.io.IOException {
        return filter.handle(exchange, chain);
      }

      @Override
      public String toString() {
        return name;
      }
    };
  }

}
