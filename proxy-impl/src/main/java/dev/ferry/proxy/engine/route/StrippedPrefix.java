package dev.ferry.proxy.engine.route;

import dev.ferry.proxy.Route;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.TargetPaths;

/**
 * What a {@code stripPrefix} route takes off a request's path, and what goes upstream instead:
 * one rule for the threads' {@link Dispatcher} and the event loops, so that both send the same
 * target and the same {@code X-Forwarded-Prefix}.
 */
public final class StrippedPrefix {
  private StrippedPrefix() {}

  /**
   * The prefix {@code route} takes off {@code target} ({@code /v1} for a {@code /v1/} or
   * {@code /v1} prefix); empty when the route strips nothing, or for {@code *}.
   */
  public static String of(Route route, String target) {
    if (!route.stripsPrefix() || target.equals("*")) {
      // OPTIONS * asks about the server as a whole (RFC 9112 §3.2.4): it has no path to strip.
      return "";
    }
    return route.path().endsWith("/") ? route.path().substring(0, route.path().length() - 1) : route.path();
  }

  /**
   * {@code /v1/users} with the prefix {@code /v1} taken off: {@code /users}. What is left always
   * goes up as an absolute path, normalised: {@code /v1../admin} on a {@code /v1} prefix leaves
   * {@code ../admin}, which must not reach the upstream as it is (a 400 where it would climb out).
   */
  public static String rest(String prefix, String target) throws HttpFailureException {
    String rest = target.substring(prefix.length());
    return TargetPaths.normalise(rest.startsWith("/") ? rest : "/" + rest);
  }
}
