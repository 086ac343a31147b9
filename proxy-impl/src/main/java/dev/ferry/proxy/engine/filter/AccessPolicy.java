package dev.ferry.proxy.engine.filter;

import dev.ferry.proxy.AccessControl;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import dev.ferry.proxy.engine.http1.ProxyFailure;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * An {@link AccessControl}'s rules, parsed once. The first rule that matches decides; a rule on
 * the destination address that cannot be decided yet (the name is not resolved) stops the
 * evaluation without a verdict, and the same rules run again once the addresses are known.
 */
final class AccessPolicy {
  private final List<AccessRule> rules;
  private final boolean allowByDefault;
  private final boolean readsDestination;
  private final boolean readsMethod;

  AccessPolicy(AccessControl config) {
    List<AccessRule> parsed = new ArrayList<>();
    config.rules().forEach(text -> parsed.add(AccessRule.parse(text)));
    this.rules = List.copyOf(parsed);
    this.allowByDefault = config.allowsByDefault();
    this.readsDestination = rules.stream().anyMatch(AccessRule::readsDestination);
    this.readsMethod = rules.stream().anyMatch(AccessRule::readsMethod);
  }

  /** Whether any rule looks at the destination, so that it must be checked at connect time. */
  boolean readsDestination() {
    return readsDestination;
  }

  /** Whether any rule looks at the method. */
  boolean readsMethod() {
    return readsMethod;
  }

  /**
   * Returns the denial for {@code target}: the rule that denies it, or the default. Empty when it
   * is allowed, or when the verdict waits for the destination's addresses.
   */
  Optional<HttpFailureException> denial(AccessTarget target) {
    return Optional.ofNullable(verdict(target).denial());
  }

  /**
   * Decides on {@code target}. The verdict is undecided when it depends on the addresses the host
   * resolves to: an address rule that cannot be decided yet would, if it matched, decide otherwise
   * than the rules after it. Rules that cannot change the outcome either way do not hold it up.
   */
  Verdict verdict(AccessTarget target) {
    boolean someAllow = false;
    boolean someDeny = false;
    for (AccessRule rule : rules) {
      AccessRule.Match match = rule.match(target);
      if (match == AccessRule.Match.UNKNOWN) {
        // First match decides: if this rule turns out to match, its verdict is final.
        someAllow |= rule.allows();
        someDeny |= !rule.allows();
      } else if (match == AccessRule.Match.YES) {
        return settle(rule.allows(), someAllow, someDeny, "rule " + rule);
      }
    }
    return settle(allowByDefault, someAllow, someDeny, "no rule allows it (deny by default)");
  }

  private static Verdict settle(boolean allows, boolean someAllow, boolean someDeny, String rule) {
    if (allows ? someDeny : someAllow) {
      return Verdict.UNDECIDED;
    }
    return allows ? Verdict.ALLOWED : new Verdict(rule, false);
  }

  /** A decision: a denial, an allowance, or undecided until the addresses are known. */
  static final class Verdict {
    static final Verdict ALLOWED = new Verdict(null, false);
    static final Verdict UNDECIDED = new Verdict(null, true);

    /** What decided the denial (the rule, or the default); null unless denied. */
    final String deniedBy;
    final boolean undecided;

    Verdict(String deniedBy, boolean undecided) {
      this.deniedBy = deniedBy;
      this.undecided = undecided;
    }

    /**
     * The 403 naming what denied it, made when asked, not with the verdict: an event loop asks
     * only whether a request is denied, and an exception is costly to make (its stack trace).
     */
    HttpFailureException denial() {
      return deniedBy == null ? null : new HttpFailureException(ProxyFailure.DENIED, deniedBy);
    }
  }
}
