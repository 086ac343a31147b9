package dev.ferry.proxy.engine.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.Upstream;
import dev.ferry.proxy.engine.http1.HttpFailureException;
import org.junit.jupiter.api.Test;

class RedirectsTest {
  private static Target target(String endpoint, String strippedPrefix) {
    Upstream.Endpoint chosen = Upstream.of(endpoint).endpoints().get(0);
    try {
      return new Target(chosen, UpstreamKey.of(chosen), false, 1000, strippedPrefix, true, false);
    } catch (HttpFailureException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void mapsTheEndpointsOwnUrlsToTheClientsPath() {
    Target to = target("http://10.0.0.5:8080/app", "/v1");
    assertThat(Redirects.local("http://10.0.0.5:8080/app/login?next=%2F", to)).isEqualTo("/v1/login?next=%2F");
    assertThat(Redirects.local("http://10.0.0.5:8080/app", to)).isEqualTo("/v1/");
    assertThat(Redirects.local("http://10.0.0.5:8080/app?x", to)).isEqualTo("/v1/?x");
    assertThat(Redirects.local("http://10.0.0.5/app/x", target("http://10.0.0.5/app", ""))).isEqualTo("/x");
    assertThat(Redirects.local("http://[::1]:9000/x", target("http://[0:0:0:0:0:0:0:1]:9000", ""))).isEqualTo("/x");
  }

  @Test
  void leavesWhatWouldResolveToAnotherHostOrPlace() {
    Target to = target("http://10.0.0.5:8080", "");
    assertThat(Redirects.local("http://10.0.0.5:8080//evil.example/x", to)).isNull();
    assertThat(Redirects.local("http://10.0.0.5:8080/\\evil.example/x", to)).isNull();
    assertThat(Redirects.local("http://10.0.0.5:8080/\t/evil.example/x", to)).as("URL parsers drop tabs").isNull();
    assertThat(Redirects.local("http://10.0.0.5:8080/a b", to)).isNull();
    assertThat(Redirects.local("http://10.0.0.5:8081/x", to)).isNull();
    assertThat(Redirects.local("https://10.0.0.5:8080/x", to)).isNull();
    assertThat(Redirects.local("//10.0.0.5:8080/x", to)).isNull();
    assertThat(Redirects.local("http://10.0.0.50:8080/x", to)).isNull();
    assertThat(Redirects.local("http://10.0.0.5:8080/app-other", target("http://10.0.0.5:8080/app", ""))).isNull();
  }

  /**
   * A path with dot-segments may climb out of the base path or the route's prefix when the client
   * resolves it: {@code /app/../admin} is the endpoint's {@code /admin}, and was mapped to
   * {@code /v1/../admin}, the proxy's {@code /admin} (probe g28). It goes on as it came.
   */
  @Test
  void leavesAPathWithDotSegments() {
    Target to = target("http://10.0.0.5:8080/app", "/v1");
    assertThat(Redirects.local("http://10.0.0.5:8080/app/../admin", to)).isNull();
    assertThat(Redirects.local("http://10.0.0.5:8080/app/%2e%2E/admin", to)).isNull();
    assertThat(Redirects.local("http://10.0.0.5:8080/app/./x", to)).isNull();
    assertThat(Redirects.local("http://10.0.0.5:8080/app/..", to)).isNull();
    // Browsers read a backslash as a slash: /v1/..\admin resolves to /admin (probe v36).
    assertThat(Redirects.local("http://10.0.0.5:8080/app/..\\admin", to)).isNull();
    assertThat(Redirects.local("http://10.0.0.5:8080/app/x/.%2E\\admin", to)).isNull();
    assertThat(Redirects.local("http://10.0.0.5:8080/app/x?next=/../y", to)).as("a query is no path")
        .isEqualTo("/v1/x?next=/../y");
    assertThat(Redirects.local("http://10.0.0.5:8080/app/..x/.y", to)).isEqualTo("/v1/..x/.y");
  }
}
