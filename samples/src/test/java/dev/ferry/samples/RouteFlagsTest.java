package dev.ferry.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.proxy.Balancer;
import dev.ferry.proxy.HealthCheck;
import dev.ferry.proxy.ProxyConfig;
import dev.ferry.proxy.RetryPolicy;
import dev.ferry.proxy.Route;
import dev.ferry.proxy.Upstream;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Issue 10: the routing flags --upstream (repeated), --route, --lb, --health-check and friends. */
class RouteFlagsTest {

  private static ProxyConfig configOf(String... args) {
    return CliOptions.parse(args).builder().buildConfig();
  }

  private static List<String> endpoints(Upstream pool) {
    return pool.endpoints().stream().map(Upstream.Endpoint::toString).toList();
  }

  @Test
  void formsOnePoolFromRepeatedUpstreams() {
    ProxyConfig config = configOf("--upstream", "http://127.0.0.1:9001",
        "--upstream", "http://127.0.0.1:9002");
    Upstream pool = config.upstream().orElseThrow();
    assertThat(endpoints(pool)).containsExactly("http://127.0.0.1:9001", "http://127.0.0.1:9002");
    assertThat(pool.name()).isEqualTo("127.0.0.1:9001");
    assertThat(pool.balancer()).isEqualTo(Balancer.roundRobin());
    assertThat(config.routes()).isEmpty();
  }

  @Test
  void readsWeightsAndBalancesWeightedUnlessLbIsGiven() {
    Upstream weighted = configOf("--upstream", "http://127.0.0.1:9001",
        "--upstream", "http://127.0.0.1:9002*3").upstream().orElseThrow();
    assertThat(weighted.endpoints()).extracting(Upstream.Endpoint::weight).containsExactly(1, 3);
    assertThat(weighted.balancer()).isEqualTo(Balancer.weighted());

    Upstream random = configOf("--upstream", "http://127.0.0.1:9001", "--upstream",
        "http://127.0.0.1:9002*3", "--lb", "random").upstream().orElseThrow();
    assertThat(random.balancer()).isEqualTo(Balancer.random());
  }

  @Test
  void keepsTheOrderAndNameWhenTheFirstEndpointIsWeighted() {
    Upstream pool = configOf("--upstream", "http://127.0.0.1:9001*2",
        "--upstream", "http://127.0.0.1:9002").upstream().orElseThrow();
    assertThat(pool.name()).isEqualTo("127.0.0.1:9001");
    assertThat(pool.endpoints()).extracting(Upstream.Endpoint::toString)
        .containsExactlyInAnyOrder("http://127.0.0.1:9001*2", "http://127.0.0.1:9002");
  }

  @Test
  void readsEveryLbSpelling() {
    for (String spelling : List.of("round-robin", "weighted", "least-requests", "random",
        "hash:header:X-User-Id", "hash:cookie:session", "hash:client-ip", "hash:path")) {
      Upstream pool = configOf("--upstream", "http://127.0.0.1:9001", "--lb", spelling)
          .upstream().orElseThrow();
      assertThat(pool.balancer()).hasToString(spelling);
    }
  }

  @Test
  void rejectsUnknownLbNamingTheFlag() {
    assertThatThrownBy(() -> CliOptions.parse("--upstream", "http://127.0.0.1:9001", "--lb", "fastest"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--lb must be round-robin, weighted, least-requests, random, hash:header:NAME, "
            + "hash:cookie:NAME, hash:client-ip or hash:path (was fastest)");
    assertThatThrownBy(() -> CliOptions.parse("--upstream", "http://127.0.0.1:9001", "--lb", "hash:header:"))
        .hasMessageStartingWith("--lb must be");
    assertThatThrownBy(() -> CliOptions.parse("--upstream", "http://127.0.0.1:9001", "--lb", "hash:header:X Y"))
        .hasMessageStartingWith("--lb: ");
  }

  @Test
  void readsRoutesWithAndWithoutHostInOrder() {
    ProxyConfig config = configOf(
        "--route", "api.example.test/v1/=http://127.0.0.1:9001,http://127.0.0.1:9002*2",
        "--route", "/static/=http://127.0.0.1:9003",
        "--route", "*.example.test/=http://127.0.0.1:9004");
    List<Route> routes = config.routes();
    assertThat(routes).hasSize(3);
    assertThat(routes.get(0).host()).hasValue("api.example.test");
    assertThat(routes.get(0).path()).isEqualTo("/v1/");
    assertThat(routes.get(0).pathMatch()).isEqualTo(Route.PathMatch.PREFIX);
    assertThat(endpoints(routes.get(0).upstream()))
        .containsExactlyInAnyOrder("http://127.0.0.1:9001", "http://127.0.0.1:9002*2");
    assertThat(routes.get(0).upstream().balancer()).isEqualTo(Balancer.weighted());
    assertThat(routes.get(1).host()).isEmpty();
    assertThat(routes.get(1).path()).isEqualTo("/static/");
    assertThat(endpoints(routes.get(1).upstream())).containsExactly("http://127.0.0.1:9003");
    assertThat(routes.get(2).host()).hasValue("*.example.test");
    assertThat(routes.get(2).path()).isEqualTo("/");
    assertThat(config.upstream()).isEmpty();
    assertThat(config.isReverse()).isTrue();
  }

  @Test
  void putsUpstreamAfterRoutesWhateverTheFlagOrder() {
    ProxyConfig config = configOf("--upstream", "http://127.0.0.1:9009",
        "--route", "/api/=http://127.0.0.1:9001", "--upstream", "http://127.0.0.1:9008");
    assertThat(config.routes()).extracting(Route::path).containsExactly("/api/");
    assertThat(endpoints(config.upstream().orElseThrow()))
        .containsExactly("http://127.0.0.1:9009", "http://127.0.0.1:9008");
  }

  @Test
  void sharesOnePoolBetweenRoutesToTheSameUrls() {
    ProxyConfig config = configOf("--route", "/a/=http://127.0.0.1:9001",
        "--route", "/b/=http://127.0.0.1:9001", "--route", "/c/=http://127.0.0.1:9001,http://127.0.0.1:9002");
    List<Route> routes = config.routes();
    assertThat(routes.get(0).upstream()).isSameAs(routes.get(1).upstream());
    assertThat(routes.get(2).upstream().name()).isEqualTo("127.0.0.1:9001-2");
  }

  @Test
  void appliesPoolFlagsToEveryPool() {
    ProxyConfig config = configOf("--route", "/a/=http://127.0.0.1:9001",
        "--upstream", "http://127.0.0.1:9002", "--health-check", "/healthz:2.5",
        "--max-requests-per-pool", "64", "--lb", "least-requests", "--preserve-host", "--keep-location");
    for (Upstream pool : List.of(config.routes().get(0).upstream(), config.upstream().orElseThrow())) {
      assertThat(pool.healthCheck()).hasValue(HealthCheck.http("/healthz").interval(Duration.ofMillis(2500)));
      assertThat(pool.maxRequests()).isEqualTo(64);
      assertThat(pool.balancer()).isEqualTo(Balancer.leastRequests());
      assertThat(pool.preservesHost()).isTrue();
      assertThat(pool.keepsLocation()).isTrue();
    }
    assertThat(configOf("--upstream", "http://127.0.0.1:9002").upstream().orElseThrow().keepsLocation())
        .as("rewritten by default").isFalse();
    assertThatThrownBy(() -> CliOptions.parse("--keep-location"))
        .hasMessage("--keep-location needs --upstream or --route");
    assertThat(configOf("--upstream", "http://127.0.0.1:9002", "--health-check", "/up")
        .upstream().orElseThrow().healthCheck()).hasValue(HealthCheck.http("/up"));
  }

  @Test
  void setsRetriesOnEveryRouteIncludingTheCatchAll() {
    ProxyConfig config = configOf("--route", "/a/=http://127.0.0.1:9001",
        "--upstream", "http://127.0.0.1:9002", "--retries", "3");
    assertThat(config.routes()).hasSize(2);
    assertThat(config.routes()).extracting(Route::retry).containsOnly(RetryPolicy.retries(3));
    assertThat(config.routes().get(1).path()).isEqualTo("/");
    assertThat(config.routes().get(1).host()).isEmpty();
    assertThat(config.routes().get(1).name()).as("named as without --retries").isEqualTo("default");
    assertThat(configOf("--route", "/a/=http://127.0.0.1:9001").routes().get(0).retry())
        .isEqualTo(RetryPolicy.retries(1));
  }

  @Test
  void rejectsMalformedRoutesNamingTheFlag() {
    assertThatThrownBy(() -> CliOptions.parse("--route", "/api/"))
        .hasMessageStartingWith("--route must be [HOSTGLOB]/PATH-PREFIX=URL[,URL...]");
    assertThatThrownBy(() -> CliOptions.parse("--route", "api.example.test=http://127.0.0.1:9001"))
        .hasMessageStartingWith("--route must be [HOSTGLOB]/PATH-PREFIX=URL[,URL...]");
    assertThatThrownBy(() -> CliOptions.parse("--route", "/a/=http://127.0.0.1:9001,"))
        .hasMessageStartingWith("--route must be");
    assertThatThrownBy(() -> CliOptions.parse("--route", "/a/=ftp://127.0.0.1:9001"))
        .hasMessageStartingWith("--route: upstream must be an absolute http or https URL");
    assertThatThrownBy(() -> CliOptions.parse("--route", "bad host/a/=http://127.0.0.1:9001"))
        .hasMessageStartingWith("--route: route host must be a host name");
  }

  @Test
  void rejectsBadValuesNamingTheFlag() {
    assertThatThrownBy(() -> CliOptions.parse("--upstream", "http://127.0.0.1:9001*x"))
        .hasMessage("--upstream weight must be a whole number, as in http://127.0.0.1:9002*3 "
            + "(was *x)");
    // Not the URL, whose query may hold a token (probe v12).
    assertThatThrownBy(() -> CliOptions.parse("--upstream", "http://127.0.0.1:9001/?token=S3CRET*x"))
        .message().doesNotContain("S3CRET");
    assertThatThrownBy(() -> CliOptions.parse("--upstream", "http://127.0.0.1:9001*0"))
        .hasMessage("--upstream: weight must be between 1 and 1000 (was 0)");
    assertThatThrownBy(() -> CliOptions.parse("--retries", "11"))
        .hasMessage("--retries: retries must be between 0 and 10 (was 11)");
    assertThatThrownBy(() -> CliOptions.parse("--retries", "many"))
        .hasMessage("--retries must be a whole number (was many)");
    assertThatThrownBy(() -> CliOptions.parse("--max-requests-per-pool", "0"))
        .hasMessage("--max-requests-per-pool: maxRequests must be between 1 and 1000000 (was 0)");
    assertThatThrownBy(() -> CliOptions.parse("--health-check", "health"))
        .hasMessageStartingWith("--health-check: health check path must start with /");
    assertThatThrownBy(() -> CliOptions.parse("--health-check", "/health#frag:1"))
        .hasMessageStartingWith("--health-check: health check path must start with /")
        .hasMessageContaining("(#; escape it");
    assertThatThrownBy(() -> CliOptions.parse("--health-check", "/health:soon"))
        .hasMessage("--health-check interval must be a number of seconds (was soon)");
  }

  @Test
  void refusesRepeatedSingleValueFlags() {
    assertThatThrownBy(() -> CliOptions.parse("--upstream", "http://127.0.0.1:9001",
        "--lb", "random", "--lb", "weighted")).hasMessage("--lb may be given only once");
    assertThatThrownBy(() -> CliOptions.parse("--retries", "1", "--retries", "2"))
        .hasMessage("--retries may be given only once");
    assertThatThrownBy(() -> CliOptions.parse("--health-check", "/a", "--health-check", "/b"))
        .hasMessage("--health-check may be given only once");
  }

  @Test
  void refusesPoolFlagsWithoutAPool() {
    assertThatThrownBy(() -> CliOptions.parse("--lb", "random"))
        .hasMessage("--lb needs --upstream or --route");
    assertThatThrownBy(() -> CliOptions.parse("--retries", "2"))
        .hasMessage("--retries needs --upstream or --route");
  }

  @Test
  void documentsEachFlagInUsage() {
    assertThat(CliOptions.USAGE).contains("--upstream URL[*N]", "--route 'PATTERN=", "--lb POLICY",
        "--health-check PATH[:SECS]", "--retries N", "--max-requests-per-pool N",
        "--preserve-host", "--keep-location", "--config FILE");
  }
}
