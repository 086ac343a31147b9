package dev.ferry.proxy.engine.filter;

import dev.ferry.proxy.AccessControl;
import dev.ferry.proxy.Exchange;
import dev.ferry.proxy.Filter;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.Methods;
import dev.ferry.proxy.engine.upstream.DestinationCheck;
import dev.ferry.proxy.engine.upstream.HostNames;
import dev.ferry.proxy.engine.upstream.UndecidedDestination;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * The engine's {@link AccessControl}. Client, method and name rules are decided here, on the
 * normalised host; rules on destination addresses need DNS, which a filter must not do, so in a
 * forward proxy the policy is also registered as the exchange's {@link DestinationCheck} and runs
 * again where the engine connects, on every resolved address (a later filter may also have
 * changed the host by then). When the verdict depends on those addresses, the exchange is also
 * marked {@link UndecidedDestination}, so that a cache hit, which connects nowhere, is not served
 * before the check has run. A denial is an {@link HttpFailureException} ({@code DENIED}, 403)
 * naming the rule, counted and logged like every failure the engine answers.
 *
 * <p>A reverse proxy connects only to its configured upstreams, so there host and port rules
 * match the Host the client asked for, and nothing is registered.
 */
final class AccessFilter implements Filter, HeadCheck {
  private final AccessControl config;
  private final AccessPolicy policy;

  AccessFilter(AccessControl config) {
    this.config = config;
    this.policy = new AccessPolicy(config);
  }

  @Override
  public Response handle(Exchange exchange, Chain chain) throws IOException {
    Request request = exchange.request();
    boolean forward = exchange.mode() == Exchange.Mode.FORWARD;
    InetAddress client = exchange.clientAddress().getAddress();
    List<String> methods = methods(request);
    AccessPolicy.Verdict verdict = verdict(request, client, methods, forward);
    if (verdict.deniedBy != null) {
      throw verdict.denial();
    }
    boolean undecided = verdict.undecided;
    if (forward && policy.readsDestination()) {
      DestinationCheck check = new DestinationRules(policy, client, methods);
      exchange.attribute(DestinationCheck.class,
          exchange.attribute(DestinationCheck.class).map(earlier -> earlier.andThen(check)).orElse(check));
      if (undecided) {
        exchange.attribute(UndecidedDestination.class, UndecidedDestination.MARK);
      }
    }
    return chain.proceed(request);
  }

  @Override
  public Request passes(Request request, InetSocketAddress client, boolean forward) {
    try {
      return verdict(request, client.getAddress(), methods(request), forward).deniedBy == null ? request : null;
    } catch (HttpFailureException malformed) {
      return null;
    }
  }

  /**
   * A forward proxy's rules on names, addresses or ports, checked again where the loop connects,
   * as {@link #handle} registers them for the threads; a reverse proxy's read no destination
   * address, nor do rules on clients and methods alone: none.
   */
  @Override
  public DestinationCheck destination(Request request, InetSocketAddress client) {
    return policy.readsDestination() ? new DestinationRules(policy, client.getAddress(), methods(request)) : null;
  }

  @Override
  public boolean awaitsAddresses(Request request, InetSocketAddress client) {
    try {
      return policy.readsDestination() && verdict(request, client.getAddress(), methods(request), true).undecided;
    } catch (HttpFailureException malformed) {
      return true; // refused before this is asked; undecided is the cautious answer
    }
  }

  /** The denial, or the host the rules could not read (400), as the threads answer them. */
  @Override
  public Refusal refusal(Request request, InetSocketAddress client, boolean forward) {
    try {
      AccessPolicy.Verdict verdict = verdict(request, client.getAddress(), methods(request), forward);
      return verdict.deniedBy == null ? null : Refusal.error(verdict.denial());
    } catch (HttpFailureException malformed) {
      return Refusal.error(malformed);
    }
  }

  /**
   * The verdict on {@code client}'s request: the denial of the first of its {@code methods} a rule
   * or the default refuses; else allowed, or undecided if it waits for the destination's
   * addresses (a forward proxy's name).
   *
   * @throws HttpFailureException {@code MALFORMED_REQUEST} for a host that rules on hosts cannot
   *     read (see {@link HostNames#normalise})
   */
  private AccessPolicy.Verdict verdict(Request request, InetAddress client, List<String> methods, boolean forward)
      throws HttpFailureException {
    String host = request.host();
    InetAddress literal = null;
    if (policy.readsDestination()) {
      host = HostNames.normalise(host);
      literal = HostNames.literal(host).orElse(null);
    }
    boolean undecided = false;
    for (String method : methods) {
      AccessPolicy.Verdict verdict = policy.verdict(new AccessTarget(client, method, host, request.port(),
          literal, forward && literal == null));
      if (verdict.deniedBy != null) {
        return verdict;
      }
      undecided |= verdict.undecided;
    }
    return undecided ? AccessPolicy.Verdict.UNDECIDED : AccessPolicy.Verdict.ALLOWED;
  }

  /**
   * The request's method, then each method an override field or an {@code _method} query
   * parameter asks the backend to run instead: method-override middleware ran a {@code POST}
   * with {@code X-HTTP-Method-Override: DELETE} as the DELETE a rule denied (probe v27). Each
   * must be allowed.
   */
  private List<String> methods(Request request) {
    if (!policy.readsMethod()) {
      return List.of(request.method());
    }
    List<String> inQuery = Methods.queryOverrides(request.target());
    if (inQuery.isEmpty() && !Methods.overridden(request.headers())) {
      return List.of(request.method());
    }
    List<String> methods = new ArrayList<>();
    methods.add(request.method());
    methods.addAll(Methods.overrides(request.headers()));
    methods.addAll(inQuery);
    return methods;
  }

  @Override
  public String toString() {
    return config.toString();
  }
}
