package dev.ferry.proxy.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.testkit.engine.EventConditions.event;
import static org.junit.platform.testkit.engine.EventConditions.finishedWithFailure;
import static org.junit.platform.testkit.engine.EventConditions.test;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.instanceOf;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.message;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.testkit.engine.EngineTestKit;

/**
 * A reverse proxy per service means two extensions in one class. A {@link RecordingProxy}
 * parameter then failed with JUnit's bare "multiple competing ParameterResolvers" (probe
 * testkit2 F2): it now fails saying to use the fields, and the fields work.
 */
class TwoExtensionsTest {

  @Test
  void refusesAnAmbiguousProxyParameterNamingTheFieldsToUse() {
    EngineTestKit.engine("junit-jupiter").selectors(selectClass(TwoServices.class)).execute().testEvents()
        .assertStatistics(s -> s.started(2).succeeded(1).failed(1))
        .assertThatEvents().haveExactly(1, event(test("takesAProxyParameter"), finishedWithFailure(
            instanceOf(ParameterResolutionException.class),
            message(m -> m.startsWith("2 Ferry proxy extensions run for takesAProxyParameter(RecordingProxy)")
                && m.contains("use the extensions' fields instead")))));
  }

  static class TwoServices {
    private static final MockWebServer catalogOrigin = new MockWebServer();
    private static final MockWebServer ordersOrigin = new MockWebServer();

    @RegisterExtension
    static FerryProxyExtension catalog = FerryProxyExtension.inFrontOf(catalogOrigin);

    @RegisterExtension
    static FerryProxyExtension orders = FerryProxyExtension.inFrontOf(ordersOrigin);

    @AfterAll
    static void stopOrigins() throws Exception {
      catalogOrigin.close();
      ordersOrigin.close();
    }

    @Test
    void takesAProxyParameter(RecordingProxy proxy) {
      throw new AssertionError("an ambiguous parameter was resolved: " + proxy);
    }

    @Test
    void usesTheFields() throws Exception {
      catalogOrigin.enqueue(new MockResponse().setBody("catalog"));
      ordersOrigin.enqueue(new MockResponse().setBody("orders"));
      HttpClient client = HttpClient.newHttpClient();
      for (FerryProxyExtension service : new FerryProxyExtension[] {catalog, orders}) {
        client.send(HttpRequest.newBuilder(service.baseUri().resolve("/items")).build(),
            HttpResponse.BodyHandlers.discarding());
      }
      assertThat(catalog.baseUri()).isNotEqualTo(orders.baseUri());
      assertThat(catalog.recording().awaitExchange(e -> e.path("/items"), Duration.ofSeconds(5))
          .response().body().text()).isEqualTo("catalog");
      assertThat(orders.recording().awaitExchange(e -> e.path("/items"), Duration.ofSeconds(5))
          .response().body().text()).isEqualTo("orders");
    }
  }
}
