package dev.ferry.proxy.engine.upstream;

import dev.ferry.proxy.Headers;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.engine.http1.DateField;
import dev.ferry.proxy.engine.http1.HopByHop;
import dev.ferry.proxy.engine.http1.MaxForwards;
import dev.ferry.proxy.engine.http1.NameSet;
import dev.ferry.proxy.engine.http1.ResponseHead;
import dev.ferry.proxy.engine.tls.ClientCertFields;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The rules for the fields of a forwarded exchange, apart from the I/O that carries them: what a
 * request's head says to its upstream ({@link #outbound}: hop-by-hop fields gone, Host, Via, the
 * forwarding fields of a reverse proxy, the framing of its body) and what an upstream's
 * response head says to the client ({@link #relayed}). The {@link Forwarder} applies them on its
 * blocking connections; they read and write nothing themselves.
 */
public final class UpstreamFields {
  private static final Set<String> BODILESS_METHODS =
      Set.of("GET", "HEAD", "DELETE", "OPTIONS", "TRACE", "CONNECT");

  /** Fields the forwarder sets itself, besides the hop-by-hop ones. */
  private static final List<String> SET_BY_FORWARDER = List.of("proxy-authorization",
      "proxy-authenticate", "content-length", "expect", "host", "via");
  private static final NameSet FORWARD_DROP = NameSet.of(SET_BY_FORWARDER.toArray(String[]::new));

  /**
   * A reverse proxy's client's forwarding fields, dropped on arrival, underscore spellings too
   * (WSGI and CGI read X_Real_IP as X-Real-IP): what this hop reports (the scheme, the host, RFC
   * 7239's element) is the proxy's or a filter's to say, never the client's, and backends trust
   * the others for the client's address or the URL it used (Spring reads X-Forwarded-Port and
   * -Prefix, many read X-Real-IP; Rack reads X-Forwarded-Ssl and -Scheme before -Proto, Tornado
   * X-Scheme, which let a plain-http client pass for https, probes g14, v14; Symfony took
   * X-Original-URL and X-Rewrite-URL for the path, past access rules on the real one). So are
   * the other host, URL and address claims proxies and CDNs set and backends read (IIS ARR's
   * X-Original-Host, nginx auth_request's X-Original-URI, Traefik's X-Forwarded-Uri, Envoy's,
   * Akamai's and Cloudflare's): a client's own was a host or URL the cache did not key on, and
   * an origin that built its answer from it had that answer served to everyone (probe p24).
   */
  private static final NameSet CLIENT_FORGEABLE = NameSet.of("x-forwarded-port", "x-forwarded-prefix",
      "x-forwarded-server", "x-real-ip", "x-forwarded-proto", "x-forwarded-host", "forwarded",
      "x-forwarded-ssl", "x-forwarded-scheme", "x-forwarded-protocol", "x-forwarded-https", "x-scheme",
      "front-end-https", "x-url-scheme", "x-original-url", "x-rewrite-url", "x-original-host", "x-host",
      "x-http-host-override", "x-original-uri", "x-forwarded-uri", "x-forwarded-path",
      "x-envoy-original-path", "client-ip", "true-client-ip", "x-client-ip", "x-cluster-client-ip",
      "x-forwarded", "forwarded-for", "x-arr-ssl", "cf-visitor", "cf-connecting-ip", "fastly-client-ip",
      "x-azure-clientip", "x-envoy-external-address", "x-originating-ip", "x-remote-addr",
      "x-original-forwarded-for", "x-forwarded-url");

  /**
   * A reverse proxy also sets X-Forwarded-For itself, and drops a client's claims to a verified
   * client certificate: RFC 9440's fields, which this proxy sets from its own TLS listener, and
   * Envoy's {@code X-Forwarded-Client-Cert}, which backends behind Envoy trust.
   */
  private static final NameSet REVERSE_DROP = NameSet.of(Stream.concat(SET_BY_FORWARDER.stream(),
      Stream.of("x-forwarded-for", "client-cert", "client-cert-chain", "x-forwarded-client-cert"))
      .toArray(String[]::new));

  /** RFC 3986's scheme: what RFC 7239's {@code proto=} may carry. */
  private static final Pattern URI_SCHEME = Pattern.compile("[A-Za-z][A-Za-z0-9+.-]*");

  /**
   * Left out of a relayed response: an upstream's proxy authentication fields are for this hop
   * (RFC 9110 §11.7), and a cache must not store them (RFC 9111 §3.1).
   */
  private static final NameSet RELAYED_DROP = NameSet.of("proxy-authorization",
      "proxy-authenticate", "proxy-authentication-info", "via");

  private UpstreamFields() {}

  /**
   * A response head's fields as relayed to the client: hop-by-hop and proxy auth gone, Via added,
   * a Date when it came without one (RFC 9110 §6.6.1: a recipient with a clock adds the time
   * it received the response to one it forwards or caches), and a reverse proxy's endpoint
   * naming itself in Location or Refresh rewritten ({@link Redirects}).
   */
  public static Headers relayed(ResponseHead head, boolean upgrade, Target to) {
    Headers.Builder headers = Headers.builder();
    HopByHop.stripForCache(head.headers(), upgrade, RELAYED_DROP, headers);
    if (to != null && to.rewriteLocation()) {
      Redirects.rewrite(head.headers(), headers, to);
    }
    headers.add("Via", HopByHop.via(head.headers(), head.minorVersion()));
    if (!head.headers().contains("Date") || HopByHop.connectionLists(head.headers(), "Date")) {
      // One its Connection lists goes, and was not replaced (probe semantics).
      headers.add("Date", DateField.now());
    }
    return headers.build();
  }

  /** Takes a reverse proxy's client's forwarding fields the proxy does not set out of {@code fields}. */
  public static void dropClientForwarding(Headers received, Headers.Builder fields) {
    for (int i = 0; i < received.size(); i++) {
      String name = received.name(i);
      if (isClientForgeable(name)) {
        fields.remove(name);
      }
    }
  }

  /**
   * A request's trailers without the client's forwarding claims, as {@link #dropClientForwarding}
   * leaves its head: a backend that merges trailers into its headers would take them for the
   * proxy's word.
   */
  public static Headers withoutClientForwarding(Headers trailers) {
    if (trailers.isEmpty()) {
      return trailers;
    }
    Headers.Builder kept = Headers.builder();
    for (int i = 0; i < trailers.size(); i++) {
      if (!isClientForgeable(trailers.name(i))) {
        kept.add(trailers, i);
      }
    }
    return kept.build();
  }

  private static boolean isClientForgeable(String name) {
    return CLIENT_FORGEABLE.contains(name)
        || name.indexOf('_') >= 0 && CLIENT_FORGEABLE.contains(name.replace('_', '-'));
  }

  /** The request's fields for the upstream, built in one pass over the client's. */
  public static Headers outbound(Request request, UpstreamHooks hooks, boolean upgrade, Target to) {
    Headers.Builder headers = Headers.builder();
    String originalHost = request.authority();
    String requested = hooks.requestedAuthority();
    // A filter that rewrote the authority chose the upstream's Host itself.
    boolean rewritten = requested != null && !requested.equals(originalHost);
    // Without a host from the client (HTTP/1.0, an empty Host), the authority is a stand-in:
    // not the client's to preserve, nor to report as the host it asked for.
    boolean named = hooks.clientNamedHost();
    headers.add("Host", to == null || to.preserveHost() && named || rewritten ? originalHost : to.endpoint().authority());
    HopByHop.strip(request.headers(), upgrade, to == null ? FORWARD_DROP : REVERSE_DROP, headers);
    if (!upgrade && request.version().equals("HTTP/1.1") && request.headers().containsToken("TE", "trailers")) {
      // RFC 9110 §10.1.4: the client takes trailers and the proxy relays them, so this hop takes
      // them too; some origins (gRPC's) send theirs only when asked. TE is a connection option.
      headers.add("TE", "trailers");
      headers.add("Connection", "TE");
    }
    MaxForwards.decrement(request.method(), request.headers(), headers);
    if (to != null) {
      String client = hooks.clientAddressText();
      String proto = hooks.clientUsesTls() ? "https" : "http";
      List<String> earlier = HopByHop.endToEnd(request.headers(), "X-Forwarded-For");
      headers.add("X-Forwarded-For", earlier.isEmpty() ? client : String.join(", ", earlier) + ", " + client);
      // The client's were dropped on arrival: one here was set by a filter (a TLS-terminating
      // load balancer in front says https), and goes on in place of the proxy's (probe g14).
      // The proxy's Forwarded then says what they say (Spring reads Forwarded first, probe v14).
      Headers filtered = request.headers();
      String clientHost = requested != null ? requested : originalHost;
      Optional<String> filterProto = filtered.first("X-Forwarded-Proto").map(String::trim)
          .filter(value -> URI_SCHEME.matcher(value).matches());
      Optional<String> filterHost = filtered.first("X-Forwarded-Host").map(String::trim);
      if (!filtered.contains("X-Forwarded-Proto")) {
        headers.add("X-Forwarded-Proto", proto);
      }
      if (named && !filtered.contains("X-Forwarded-Host")) {
        headers.add("X-Forwarded-Host", clientHost);
      }
      if (!to.strippedPrefix().isEmpty() && !filtered.contains("X-Forwarded-Prefix")) {
        // What the route took off the path, for a backend that builds links (Spring, Traefik's
        // stripPrefix); a client's own was dropped on arrival.
        headers.add("X-Forwarded-Prefix", to.strippedPrefix());
      }
      if (!filtered.contains("Forwarded")) {
        headers.add("Forwarded", ForwardedHeader.value(client,
            filterHost.orElse(named ? clientHost : null), filterProto.orElse(proto)));
      }
      ClientCertFields certificate = hooks.clientCertFields();
      if (certificate.present()) {
        headers.add("Client-Cert", certificate.cert());
        if (certificate.chain() != null) {
          headers.add("Client-Cert-Chain", certificate.chain());
        }
      }
    }
    long length = request.body().contentLength();
    if (length > 0 || (length == 0 && !BODILESS_METHODS.contains(request.method()))) {
      headers.add("Content-Length", Long.toString(length));
    } else if (length < 0) {
      headers.add("Transfer-Encoding", "chunked");
    }
    headers.add("Via", HopByHop.via(request.headers(), request.version().equals("HTTP/1.0") ? 0 : 1));
    return headers.build();
  }
}
