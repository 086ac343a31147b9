package dev.ferry.proxy.engine.balance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.ferry.proxy.Balancer;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.engine.route.LiveEndpoint;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

class ConsistentHashTest {
  private static final int KEYS = 20_000;

  @Test
  void sendsTheSameKeyToTheSameEndpoint() {
    List<LiveEndpoint> pool = Pools.of(5);
    EndpointPicker picker = byUser(pool);

    for (int i = 0; i < 100; i++) {
      LiveEndpoint first = picker.pick(pool, user("user-" + i), Pools.CLIENT);
      for (int again = 0; again < 5; again++) {
        assertThat(picker.pick(pool, user("user-" + i), Pools.CLIENT)).isSameAs(first);
      }
    }
  }

  @Test
  void spreadsKeysEvenlyOverTheEndpoints() {
    List<LiveEndpoint> pool = Pools.of(10);

    Map<LiveEndpoint, Integer> owners = counts(owners(byUser(pool), pool));

    assertThat(owners).hasSize(10);
    for (int count : owners.values()) {
      assertThat(count / (double) KEYS).isCloseTo(0.1, within(0.03));
    }
  }

  @Test
  void spreadsKeysInProportionToWeight() {
    List<LiveEndpoint> pool = Pools.weighted(1, 3);

    Map<LiveEndpoint, Integer> owners = counts(owners(byUser(pool), pool));

    assertThat(owners.get(pool.get(1)) / (double) KEYS).isCloseTo(0.75, within(0.04));
  }

  @Test
  void remapsAboutATenthOfKeysWhenOneOfTenEndpointsGoes() {
    List<LiveEndpoint> pool = Pools.of(10);
    List<LiveEndpoint> nine = new ArrayList<>(pool);
    LiveEndpoint gone = nine.remove(3);
    List<LiveEndpoint> before = owners(byUser(pool), pool);

    // The pool reconfigured without it: a new ring over nine endpoints.
    List<LiveEndpoint> after = owners(byUser(nine), nine);

    int moved = 0;
    for (int i = 0; i < KEYS; i++) {
      if (before.get(i) != after.get(i)) {
        moved++;
        assertThat(before.get(i)).as("only the gone endpoint's keys move").isSameAs(gone);
      }
    }
    assertThat(moved / (double) KEYS).isCloseTo(0.1, within(0.03));
  }

  @Test
  void walksToTheNextCandidateWhenTheKeysEndpointIsOut() {
    List<LiveEndpoint> pool = Pools.of(10);
    EndpointPicker picker = byUser(pool);
    List<LiveEndpoint> nine = new ArrayList<>(pool);
    LiveEndpoint ejected = nine.remove(3);
    List<LiveEndpoint> before = owners(picker, pool);

    List<LiveEndpoint> during = owners(picker, nine);
    List<LiveEndpoint> back = owners(picker, pool);

    int moved = 0;
    for (int i = 0; i < KEYS; i++) {
      if (before.get(i) != during.get(i)) {
        moved++;
        assertThat(before.get(i)).isSameAs(ejected);
      }
    }
    assertThat(moved / (double) KEYS).isCloseTo(0.1, within(0.03));
    assertThat(during).doesNotContain(ejected);
    assertThat(back).isEqualTo(before);
  }

  @Test
  void keepsOtherEndpointsKeysWhenTheListIsReordered() {
    List<LiveEndpoint> pool = Pools.of(6);
    List<LiveEndpoint> reversed = new ArrayList<>(pool);
    Collections.reverse(reversed);

    assertThat(owners(byUser(reversed), reversed)).isEqualTo(owners(byUser(pool), pool));
  }

  @Test
  void balancesInTurnWhenTheKeyIsAbsent() {
    List<LiveEndpoint> pool = Pools.of(3);
    EndpointPicker picker = byUser(pool);

    assertThat(Pools.sequence(picker, pool, pool, 6)).isEqualTo("abcabc");
    assertThat(picker.pick(pool, Pools.REQUEST.withHeader("X-User", ""), Pools.CLIENT)).isIn(pool);
  }

  @Test
  void hashesTheNamedCookie() {
    List<LiveEndpoint> pool = Pools.of(10);
    EndpointPicker picker = Pickers.create(Balancer.hashCookie("session"), pool, new SplittableRandom(1));
    Request plain = Pools.REQUEST.withHeader("Cookie", "session=abc123");
    Request amongOthers = Pools.REQUEST.withHeader("Cookie", "theme=dark; session=abc123 ;lang=en");
    Request otherSession = Pools.REQUEST.withHeader("Cookie", "theme=dark; session=zzz999");

    LiveEndpoint owner = picker.pick(pool, plain, Pools.CLIENT);

    assertThat(picker.pick(pool, amongOthers, Pools.CLIENT)).isSameAs(owner);
    assertThat(keysOf(picker, pool, i -> Pools.REQUEST.withHeader("Cookie", "a=1; session=s" + i)))
        .as("different sessions spread out").hasSizeGreaterThan(5);
    assertThat(picker.pick(pool, otherSession, Pools.CLIENT)).isIn(pool);
  }

  @Test
  void hashesTheClientAddress() throws Exception {
    List<LiveEndpoint> pool = Pools.of(10);
    EndpointPicker picker = Pickers.create(Balancer.hashClientIp(), pool, new SplittableRandom(1));
    InetAddress client = InetAddress.getByName("192.0.2.7");

    LiveEndpoint owner = picker.pick(pool, Pools.REQUEST, client);

    for (int i = 0; i < 10; i++) {
      assertThat(picker.pick(pool, Pools.REQUEST.withTarget("/other/" + i), client)).isSameAs(owner);
    }
  }

  @Test
  void hashesThePathWithoutTheQuery() {
    List<LiveEndpoint> pool = Pools.of(10);
    EndpointPicker picker = Pickers.create(Balancer.hashPath(), pool, new SplittableRandom(1));

    LiveEndpoint owner = picker.pick(pool, Pools.REQUEST.withTarget("/assets/app.js"), Pools.CLIENT);

    assertThat(picker.pick(pool, Pools.REQUEST.withTarget("/assets/app.js?v=42"), Pools.CLIENT)).isSameAs(owner);
    assertThat(keysOf(picker, pool, i -> Pools.REQUEST.withTarget("/assets/" + i + ".js"))).hasSizeGreaterThan(5);
  }

  private static EndpointPicker byUser(List<LiveEndpoint> pool) {
    return Pickers.create(Balancer.hashHeader("X-User"), pool, new SplittableRandom(1));
  }

  private static Request user(String id) {
    return Pools.REQUEST.withHeader("X-User", id);
  }

  private static List<LiveEndpoint> owners(EndpointPicker picker, List<LiveEndpoint> candidates) {
    List<LiveEndpoint> owners = new ArrayList<>(KEYS);
    for (int i = 0; i < KEYS; i++) {
      owners.add(picker.pick(candidates, user("user-" + i), Pools.CLIENT));
    }
    return owners;
  }

  private static Map<LiveEndpoint, Integer> counts(List<LiveEndpoint> owners) {
    Map<LiveEndpoint, Integer> counts = new HashMap<>();
    for (LiveEndpoint owner : owners) {
      counts.merge(owner, 1, Integer::sum);
    }
    return counts;
  }

  private static Set<LiveEndpoint> keysOf(EndpointPicker picker, List<LiveEndpoint> pool,
      IntFunction<Request> requests) {
    Set<LiveEndpoint> owners = new HashSet<>();
    for (int i = 0; i < 100; i++) {
      owners.add(picker.pick(pool, requests.apply(i), Pools.CLIENT));
    }
    return owners;
  }
}
