package dev.ferry.proxy.engine.cache;

import static dev.ferry.proxy.engine.cache.CacheHarness.verdict;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.engine.ProxyTestExtension;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Issue 15's required fixes: Vary members, unknown methods, Age lists, strict targeted fields. */
class CacheConformanceTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();
  private CacheHarness h;

  @BeforeEach
  void start() throws Exception {
    h = new CacheHarness(ferry);
  }

  @Test
  void neverReusesVaryWithStarMember() throws Exception {
    String[] varies = {"Foo, *", "*, *", ", *"};
    for (String vary : varies) {
      String path = "/star/" + vary.length() + vary.charAt(0);
      h.origin.enqueue(h.response("first").setHeader("Cache-Control", "max-age=100").setHeader("Vary", vary));
      h.origin.enqueue(h.response("second").setHeader("Cache-Control", "max-age=100").setHeader("Vary", vary));
      h.get(path);
      assertThat(h.get(path).body()).as("Vary: %s", vary).isEqualTo("second");
    }
    assertThat(h.cache().stats().entries()).isZero();
  }

  @Test
  void invalidatesAfterMethodOfUnknownSafety() throws Exception {
    h.origin.enqueue(h.response("page v1").setHeader("Cache-Control", "max-age=100"));
    h.origin.enqueue(h.response("moved v1").setHeader("Cache-Control", "max-age=100"));
    h.origin.enqueue(h.response("described v1").setHeader("Cache-Control", "max-age=100"));
    h.origin.enqueue(h.response("searched").setHeader("Location", "/moved")
        .setHeader("Content-Location", "/described"));
    h.origin.enqueue(h.response("page v2").setHeader("Cache-Control", "max-age=100"));
    h.origin.enqueue(h.response("moved v2").setHeader("Cache-Control", "max-age=100"));
    h.origin.enqueue(h.response("described v2").setHeader("Cache-Control", "max-age=100"));
    h.get("/page");
    h.get("/moved");
    h.get("/described");
    assertThat(verdict(h.request("M-SEARCH", "/page"))).isEqualTo("BYPASS");
    assertThat(h.get("/page").body()).isEqualTo("page v2");
    assertThat(h.get("/moved").body()).isEqualTo("moved v2");
    assertThat(h.get("/described").body()).isEqualTo("described v2");
  }

  @Test
  void keepsEntriesAfterSafeOptions() throws Exception {
    h.origin.enqueue(h.response("kept").setHeader("Cache-Control", "max-age=100"));
    h.origin.enqueue(h.response("options"));
    h.get("/safe");
    h.request("OPTIONS", "/safe");
    assertThat(verdict(h.get("/safe"))).isEqualTo("HIT");
  }

  @Test
  void takesFirstMemberOfAgeList() throws Exception {
    h.origin.enqueue(h.response("old").setHeader("Cache-Control", "max-age=3600").setHeader("Age", "7200, 0"));
    h.origin.enqueue(h.response("new").setHeader("Cache-Control", "max-age=3600"));
    h.get("/age");
    HttpResponse<String> second = h.get("/age");
    assertThat(second.body()).as("an age of 7200 is past max-age").isEqualTo("new");
  }

  @Test
  void ignoresTargetedFieldThatFailsStrictParsing() throws Exception {
    String[] invalid = {"max-age=10000, &&&&&", "max-age=\"10000\"", "max-age = 10000", "max-age=10000,"};
    for (String value : invalid) {
      String path = "/cdn/" + Integer.toHexString(value.hashCode());
      h.origin.enqueue(h.response("a").setHeader("Cache-Control", "no-store").setHeader("CDN-Cache-Control", value));
      h.origin.enqueue(h.response("b").setHeader("Cache-Control", "no-store").setHeader("CDN-Cache-Control", value));
      h.get(path);
      assertThat(h.get(path).body()).as("CDN-Cache-Control: %s leaves Cache-Control in charge", value)
          .isEqualTo("b");
    }
    h.origin.enqueue(h.response("cdn").setHeader("Cache-Control", "no-store")
        .setHeader("CDN-Cache-Control", "max-age=10000, x-ext=(a b);p=?1"));
    h.get("/cdn/valid");
    assertThat(verdict(h.get("/cdn/valid"))).isEqualTo("HIT");
  }

  @Test
  void appliesCacheControlWhenTargetedFieldIsInvalidButCacheable() throws Exception {
    h.origin.enqueue(h.response("cc").setHeader("Cache-Control", "max-age=100")
        .setHeader("CDN-Cache-Control", "no-store=1"));
    h.get("/cdn-typed");
    assertThat(verdict(h.get("/cdn-typed"))).as("no-store=1 is not a Boolean: the field is ignored").isEqualTo("HIT");
  }
}
