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

  AccessPolicy(AccessControl config) {
    List<AccessRule> parsed = new ArrayList<>();
    config.rules().forEach(text -> parsed.add(AccessRule.parse(text)));
    this.rules = List.copyOf(parsed);
    this.allowByDefault = config.allowsByDefault();
    this.readsDestination = rules.stream().anyMatch(AccessRule::readsDestination);
  }

  /** Whether any rule looks at the destination, so that it must be checked at connect time. */
  boolean readsDestination() {
    return readsDestination;
  }

  /**
   * Returns the denial for {@code target}: the rule that denies it, or the default. Empty when it
   * is allowed, or when the verdict waits for the destination's addresses.
   */
  Optional<HttpFailureException> denial(AccessTarget target) {
    for (AccessRule rule : rules) {
      AccessRule.Match match = rule.match(target);
      if (match == AccessRule.Match.UNKNOWN) {
        return Optional.empty();
      }
      if (match == AccessRule.Match.YES) {
        return rule.allows() ? Optional.empty()
            : Optional.of(new HttpFailureException(ProxyFailure.DENIED, "rule " + rule));
      }
    }
    return allowByDefault ? Optional.empty()
        : Optional.of(new HttpFailureException(ProxyFailure.DENIED, "no rule allows it (deny by default)"));
  }
}
