package dev.ferry.proxy.engine.cache;

import static dev.ferry.proxy.engine.cache.CacheHarness.verdict;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.engine.ProxyTestExtension;
import dev.ferry.proxy.engine.http1.HttpDates;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import okhttp3.mockwebserver.MockResponse;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What else may be stored and reused (RFC 9111 §3, §4): bodiless and heuristic statuses,
 * qualified no-cache/private, POST answers, normalised Vary values, If-Modified-Since without
 * Last-Modified, and must-understand.
 */
class CacheReuseRulesTest {
  @RegisterExtension final ProxyTestExtension ferry = new ProxyTestExtension();
  private CacheHarness h;

  @BeforeEach
  void start() throws Exception {
    h = new CacheHarness(ferry);
  }

  @Test
  void reusesFreshBodiless204() throws Exception {
    h.origin.enqueue(h.response("").setResponseCode(204).setHeader("Cache-Control", "max-age=100"));
    h.get("/empty");
    HttpResponse<String> hit = h.get("/empty");
    assertThat(hit.statusCode()).isEqualTo(204);
    assertThat(verdict(hit)).isEqualTo("HIT");
    assertThat(h.origin.getRequestCount()).isEqualTo(1);
  }

  @Test
  void appliesHeuristicFreshnessToEveryHeuristicallyCacheableStatus() throws Exception {
    String lastModified = HttpDates.format(h.clock.instant().minusSeconds(10_000));
    for (int status : new int[] {404, 405, 410, 414, 501}) {
      h.origin.enqueue(h.response("status " + status).setResponseCode(status).setHeader("Last-Modified", lastModified));
    }
    h.origin.enqueue(h.response("found").setResponseCode(302).setHeader("Location", "/x")
        .setHeader("Last-Modified", lastModified));
    h.origin.enqueue(h.response("found again").setResponseCode(302).setHeader("Location", "/x")
        .setHeader("Last-Modified", lastModified));
    for (int status : new int[] {404, 405, 410, 414, 501}) {
      h.get("/heuristic/" + status);
    }
    h.advance(Duration.ofSeconds(500));
    for (int status : new int[] {404, 405, 410, 414, 501}) {
      HttpResponse<String> hit = h.get("/heuristic/" + status);
      assertThat(hit.statusCode()).isEqualTo(status);
      assertThat(verdict(hit)).as("status %d", status).isEqualTo("HIT");
    }
    // java.net.http follows no redirects by default, so the 302 itself comes back.
    h.get("/heuristic/302");
    assertThat(h.get("/heuristic/302").body()).as("302 is not heuristically cacheable")
        .isEqualTo("found again");
  }

  @Test
  void stripsFieldsNamedByQualifiedNoCacheAndPrivate() throws Exception {
    h.origin.enqueue(h.response("shared part")
        .setHeader("Cache-Control", "max-age=100, no-cache=\"X-Token\", private=\"Set-Cookie\"")
        .setHeader("X-Token", "secret").setHeader("Set-Cookie", "session=alice").setHeader("X-Kept", "yes"));
    HttpResponse<String> first = h.get("/qualified");
    assertThat(first.headers().firstValue("Set-Cookie")).as("the first client gets its own").hasValue("session=alice");
    HttpResponse<String> hit = h.get("/qualified");
    assertThat(verdict(hit)).isEqualTo("HIT");
    assertThat(hit.body()).isEqualTo("shared part");
    assertThat(hit.headers().firstValue("X-Token")).isEmpty();
    assertThat(hit.headers().firstValue("Set-Cookie")).isEmpty();
    assertThat(hit.headers().firstValue("X-Kept")).hasValue("yes");
  }

  /**
   * Every {@code private} and {@code no-cache} counts, the most restrictive winning (RFC 9111
   * §4.2.1): an unqualified one after a qualified one, on the same line or another, keeps the
   * response private (or revalidated); two qualified ones strip the fields of both (probe k24:
   * the first one alone was read, and one client's page went to the next).
   */
  @Test
  void honoursEveryPrivateAndNoCacheDirective() throws Exception {
    String[][] policies = {{"max-age=100, private=\"Set-Cookie\"", "private"},
        {"max-age=100, private=\"X-A\", private"}, {"max-age=100, no-cache=\"X-A\", no-cache"},
        {"max-age=100, private=\"X-A\", private;"}};
    for (int i = 0; i < policies.length; i++) {
      String path = "/every/" + i;
      for (String user : new String[] {"alice", "bob"}) {
        MockResponse response = h.response(user + "'s page").setHeader("ETag", "\"" + user + "\"");
        for (String policy : policies[i]) {
          response.addHeader("Cache-Control", policy);
        }
        h.origin.enqueue(response);
      }
      h.get(path);
      assertThat(h.get(path).body()).as(String.join(" | ", policies[i])).isEqualTo("bob's page");
    }
    h.origin.enqueue(h.response("shared").addHeader("Cache-Control", "max-age=100, private=\"X-A\"")
        .addHeader("Cache-Control", "private=\"X-Session\"").setHeader("X-A", "a").setHeader("X-Session", "alice"));
    h.get("/both-named");
    HttpResponse<String> hit = h.get("/both-named");
    assertThat(verdict(hit)).isEqualTo("HIT");
    assertThat(hit.headers().firstValue("X-A")).isEmpty();
    assertThat(hit.headers().firstValue("X-Session")).isEmpty();
  }

  /**
   * After a successful revalidation the fields a qualified {@code private} or {@code no-cache}
   * names go to the client that revalidated, as on a miss (RFC 9111 §5.2.2.4, §5.2.2.7), and are
   * still never stored; they were stripped from that client's answer too (probe k14).
   */
  @Test
  void servesTheFieldsA304NamedPrivateToTheRequestThatRevalidated() throws Exception {
    String policy = "max-age=10, private=\"X-Priv\", no-cache=\"X-Tok\"";
    h.origin.enqueue(h.response("shared part").setHeader("Cache-Control", policy).setHeader("ETag", "\"v1\"")
        .setHeader("X-Priv", "value-1").setHeader("X-Tok", "token-1"));
    h.origin.enqueue(new MockResponse().setResponseCode(304).setHeader("Cache-Control", policy)
        .setHeader("ETag", "\"v1\"").setHeader("X-Priv", "value-2").setHeader("X-Tok", "token-2"));
    h.get("/named");
    h.advance(Duration.ofSeconds(30));
    HttpResponse<String> revalidated = h.get("/named");
    assertThat(verdict(revalidated)).isEqualTo("REVALIDATED");
    assertThat(revalidated.headers().firstValue("X-Priv")).hasValue("value-2");
    assertThat(revalidated.headers().firstValue("X-Tok")).hasValue("token-2");
    HttpResponse<String> hit = h.get("/named");
    assertThat(verdict(hit)).isEqualTo("HIT");
    assertThat(hit.headers().firstValue("X-Priv")).isEmpty();
    assertThat(hit.headers().firstValue("X-Tok")).isEmpty();
  }

  @Test
  void answersLaterGetFromPostWithMatchingContentLocation() throws Exception {
    h.origin.enqueue(h.response("posted result").setHeader("Cache-Control", "max-age=100")
        .setHeader("Content-Location", "/form"));
    h.origin.enqueue(h.response("other result").setHeader("Cache-Control", "max-age=100")
        .setHeader("Content-Location", "/elsewhere"));
    h.origin.enqueue(h.response("fetched"));
    h.send(HttpRequest.newBuilder(h.uri("/form")).POST(HttpRequest.BodyPublishers.ofString("q=1")));
    HttpResponse<String> get = h.get("/form");
    assertThat(verdict(get)).isEqualTo("HIT");
    assertThat(get.body()).isEqualTo("posted result");
    h.send(HttpRequest.newBuilder(h.uri("/other")).POST(HttpRequest.BodyPublishers.ofString("q=2")));
    assertThat(h.get("/other").body()).isEqualTo("fetched");
  }

  @Test
  void matchesVaryOnNormalisedListValues() throws Exception {
    h.origin.enqueue(h.response("en+fr").setHeader("Cache-Control", "max-age=100")
        .setHeader("Vary", "Accept-Language, Accept-Encoding"));
    h.get("/negotiated", "Accept-Language", "en, fr;q=0.5", "Accept-Encoding", "gzip,  br");
    HttpResponse<String> reordered = h.get("/negotiated", "Accept-Language", "FR;q=0.5,EN",
        "Accept-Encoding", "br, GZIP");
    assertThat(verdict(reordered)).isEqualTo("HIT");
    assertThat(h.cache().stats().entries()).isEqualTo(1);
  }

  /**
   * §4.1 lets a cache reorder list members only where order is not significant: a language
   * listed first is preferred among equal q-values (RFC 4647 §2.3), so "fr, en" does not select
   * the variant stored for "en, fr" (it did: the members were sorted).
   */
  @Test
  void keepsTheOrderOfLanguagesOfEqualQuality() throws Exception {
    h.origin.enqueue(h.response("english").setHeader("Cache-Control", "max-age=100").setHeader("Vary", "Accept-Language"));
    h.origin.enqueue(h.response("french").setHeader("Cache-Control", "max-age=100").setHeader("Vary", "Accept-Language"));
    assertThat(h.get("/lang", "Accept-Language", "en, fr").body()).isEqualTo("english");
    HttpResponse<String> french = h.get("/lang", "Accept-Language", "fr, en");
    assertThat(verdict(french)).isEqualTo("MISS");
    assertThat(french.body()).isEqualTo("french");
    assertThat(verdict(h.get("/lang", "Accept-Language", "FR,EN"))).isEqualTo("HIT");
  }

  /** §4.1: a field absent from one request matches only its absence, not an empty value. */
  @Test
  void keepsEmptyAndAbsentVaryFieldsApart() throws Exception {
    h.origin.enqueue(h.response("absent").setHeader("Cache-Control", "max-age=100").setHeader("Vary", "X-A"));
    h.origin.enqueue(h.response("empty").setHeader("Cache-Control", "max-age=100").setHeader("Vary", "X-A"));
    assertThat(h.get("/vary-empty").body()).isEqualTo("absent");
    HttpResponse<String> empty = h.get("/vary-empty", "X-A", "");
    assertThat(empty.body()).isEqualTo("empty");
    assertThat(verdict(empty)).isEqualTo("MISS");
    assertThat(h.get("/vary-empty").body()).isEqualTo("absent");
    assertThat(h.get("/vary-empty", "X-A", "").body()).isEqualTo("empty");
    assertThat(h.origin.getRequestCount()).isEqualTo(2);
  }

  /**
   * A Vary member that is no field name (a list written with spaces, a quoted name) is no field
   * any request carries: read as one, every user would select the first user's response.
   */
  @Test
  void neverSharesAResponseWhoseVaryMemberIsNoFieldName() throws Exception {
    for (String vary : new String[] {"X-User Accept-Language", "\"X-User\""}) {
      h.origin.enqueue(h.response("alice's " + vary).setHeader("Cache-Control", "max-age=100").setHeader("Vary", vary));
      h.origin.enqueue(h.response("bob's " + vary).setHeader("Cache-Control", "max-age=100").setHeader("Vary", vary));
      String path = "/vary-malformed/" + vary.length();
      h.get(path, "X-User", "alice");
      HttpResponse<String> bob = h.get(path, "X-User", "bob");
      assertThat(bob.body()).as("Vary: %s", vary).isEqualTo("bob's " + vary);
      assertThat(verdict(bob)).isEqualTo("MISS");
    }
  }

  /**
   * The forwarding fields a reverse proxy writes from each client's address or certificate: the
   * origin varied on what the proxy sent, which no client's request holds, so every client
   * selected the first one's answer (probe k22; k25 with RFC 9440's Client-Cert, one client's
   * page served to every other certificate). Such a response is kept for nobody, as with
   * {@code Vary: *}.
   */
  @Test
  void neverSharesAResponseThatVariesOnTheForwardedClientAddressOrCertificate() throws Exception {
    for (String vary : new String[] {"X-Forwarded-For", "Accept, forwarded", "Client-Cert", "client-cert-chain"}) {
      h.origin.enqueue(h.response("first " + vary).setHeader("Cache-Control", "max-age=100").setHeader("Vary", vary));
      h.origin.enqueue(h.response("second " + vary).setHeader("Cache-Control", "max-age=100").setHeader("Vary", vary));
      String path = "/vary-client/" + vary.toLowerCase(java.util.Locale.ROOT).replace(", ", "-");
      h.get(path);
      HttpResponse<String> second = h.get(path);
      assertThat(second.body()).as("Vary: %s", vary).isEqualTo("second " + vary);
      assertThat(verdict(second)).isEqualTo("MISS");
    }
  }

  /**
   * A privacy directive with a stray character ({@code private;}, a quoted {@code "no-store"})
   * is an unknown directive by the grammar, but its sender meant it: never shared. Nor is one
   * after a quoted-string that is never closed (probe k24: it hid the rest of the line), one
   * between quotes where no argument begins, or one whose field list is never closed (v24).
   */
  @Test
  void neverSharesAResponseWithAMalformedPrivateOrNoStore() throws Exception {
    String[] forms = {"max-age=60, private;", "max-age=60, private ;", "max-age=60, \"no-store\"",
        "max-age=60, no-store;", "max-age=60, foo=\"bar, private", "max-age=60, foo=\"a\\\", private",
        "max-age=60, foo=\"bar, no-store", "max-age=60, foo=a\"b, private, bar=c\"d",
        "max-age=60, \"a, no-store, b\"", "max-age=60, private=\"Authorization", "max-age=60, no-cache=\"x, y",
        "max-age=60, foo=a=\"b, private, c\"", "max-age=60, foo==\", no-store\"", "max-age=60, =\", private, \"",
        "max-age=60, a\"b=\", private, \"", "max-age=60, foo bar=\", private, \"",
        "max-age=60, foo =\"a, private, b\"", "max-age=60, foo\t=\"a, no-store, b\""};
    for (int i = 0; i < forms.length; i++) {
      String form = forms[i];
      h.origin.enqueue(h.response("alice's " + form).setHeader("Cache-Control", form));
      h.origin.enqueue(h.response("bob's " + form).setHeader("Cache-Control", form));
      String path = "/cc-malformed/" + i;
      h.get(path);
      HttpResponse<String> second = h.get(path);
      assertThat(second.body()).as("Cache-Control: %s", form).isEqualTo("bob's " + form);
    }
    assertThat(h.origin.getRequestCount()).isEqualTo(2 * forms.length);
  }

  /** RFC 9110 §5.6.4: a comma inside a quoted parameter does not end a member. */
  @Test
  void keepsVaryValuesApartThatDifferOnlyInsideQuotes() throws Exception {
    h.origin.enqueue(h.response("first").setHeader("Cache-Control", "max-age=100").setHeader("Vary", "Accept"));
    h.origin.enqueue(h.response("second").setHeader("Cache-Control", "max-age=100").setHeader("Vary", "Accept"));
    h.get("/quoted", "Accept", "text/html;p=\"a,b\", text/plain;q=\"c,d\"");
    HttpResponse<String> other = h.get("/quoted", "Accept", "text/html;p=\"a,d\", text/plain;q=\"c,b\"");
    assertThat(other.body()).isEqualTo("second");
    assertThat(h.origin.getRequestCount()).isEqualTo(2);
  }

  /**
   * Only what the Accept grammar says is insignificant is normalised: a parameter's value keeps
   * its case and a quoted-string its spaces; a field the cache does not know is compared as sent
   * (probe k24: each pair below selected the other's variant).
   */
  @Test
  void keepsVariantsApartThatDifferInSignificantCaseOrSpaces() throws Exception {
    String[][] pairs = {{"Accept", "application/ld+json; profile=\"https://ex.test/Person\"",
        "application/ld+json;profile=\"https://ex.test/person\""},
        {"Accept", "text/x; a=Token", "text/x; a=token"}, {"Accept", "text/x; a=\"A  B\"", "text/x; a=\"A B\""},
        {"X-Token", "a, b", "a,b"}, {"X-Token", "x = 1", "x=1"}, {"Accept-Version", "1.0.0-RC", "1.0.0-rc"}};
    for (int i = 0; i < pairs.length; i++) {
      String path = "/significant/" + i;
      h.origin.enqueue(h.response("first").setHeader("Cache-Control", "max-age=100").setHeader("Vary", pairs[i][0]));
      h.origin.enqueue(h.response("second").setHeader("Cache-Control", "max-age=100").setHeader("Vary", pairs[i][0]));
      h.get(path, pairs[i][0], pairs[i][1]);
      assertThat(h.get(path, pairs[i][0], pairs[i][2]).body()).as("%s: %s", pairs[i][0], pairs[i][2]).isEqualTo("second");
    }
    h.origin.enqueue(h.response("one").setHeader("Cache-Control", "max-age=100").setHeader("Vary", "Accept"));
    h.get("/insignificant", "Accept", "Text/HTML ;  Level=1;q=0.5, */*");
    assertThat(verdict(h.get("/insignificant", "Accept", "*/*, text/html;level=1; q=0.5"))).isEqualTo("HIT");
  }

  /**
   * A method override is no part of the key: the origin may answer the GET as another method
   * (method-override middleware), so it is neither stored nor answered from the store; a 405 for
   * one client's DELETE was every client's page (probe p24). A GET with content is kept out the
   * same way (StaleUpstreamConnectionTest).
   */
  @Test
  void neverStoresOrServesAGetWithAMethodOverride() throws Exception {
    h.origin.enqueue(h.response("stored").setHeader("Cache-Control", "max-age=100"));
    h.get("/overridden");
    h.origin.enqueue(h.response("deleted").setResponseCode(405).setHeader("Cache-Control", "max-age=100"));
    HttpResponse<String> overridden = h.get("/overridden", "X-HTTP-Method-Override", "DELETE");
    assertThat(overridden.body()).isEqualTo("deleted");
    assertThat(verdict(overridden)).isEqualTo("BYPASS");
    // CGI, PHP and WSGI backends read the underscore spelling as the dashed one (probe v26).
    h.origin.enqueue(h.response("deleted").setResponseCode(405).setHeader("Cache-Control", "max-age=100"));
    assertThat(verdict(h.get("/overridden", "X_HTTP_Method_Override", "DELETE"))).isEqualTo("BYPASS");
    HttpResponse<String> next = h.get("/overridden");
    assertThat(next.body()).isEqualTo("stored");
    assertThat(verdict(next)).isEqualTo("HIT");
  }

  /** RFC 9110 §13.1.3: If-Modified-Since is one date; sent twice it is a list, and ignored. */
  @Test
  void ignoresIfModifiedSinceSentTwice() throws Exception {
    h.origin.enqueue(h.response("dated").setHeader("Cache-Control", "max-age=100")
        .setHeader("Last-Modified", HttpDates.format(h.clock.instant().minusSeconds(86_400))));
    h.get("/twice");
    HttpRequest.Builder request = HttpRequest.newBuilder(h.uri("/twice"))
        .header("If-Modified-Since", HttpDates.format(h.clock.instant()))
        .header("If-Modified-Since", HttpDates.format(h.clock.instant().minusSeconds(3 * 86_400)));
    HttpResponse<String> answer = h.send(request);
    assertThat(answer.statusCode()).isEqualTo(200);
    assertThat(answer.body()).isEqualTo("dated");
  }

  /** RFC 9111 §3.1: a shared cache stores no proxy authentication fields; they are not relayed either. */
  @Test
  void neitherRelaysNorStoresProxyAuthenticationInfo() throws Exception {
    h.origin.enqueue(h.response("hello").setHeader("Cache-Control", "max-age=100")
        .setHeader("Proxy-Authentication-Info", "nextnonce=\"abc\""));
    assertThat(h.get("/nonce").headers().firstValue("Proxy-Authentication-Info")).isEmpty();
    HttpResponse<String> hit = h.get("/nonce");
    assertThat(verdict(hit)).isEqualTo("HIT");
    assertThat(hit.headers().firstValue("Proxy-Authentication-Info")).isEmpty();
  }

  @Test
  void answersIfModifiedSinceFromStoredDateWithoutLastModified() throws Exception {
    String date = HttpDates.format(h.clock.instant());
    h.origin.enqueue(h.response("dated").setHeader("Cache-Control", "max-age=100"));
    h.origin.enqueue(h.response("unused"));
    h.get("/dated");
    HttpResponse<String> notModified = h.get("/dated", "If-Modified-Since", date);
    assertThat(notModified.statusCode()).isEqualTo(304);
    HttpResponse<String> modified = h.get("/dated", "If-Modified-Since",
        HttpDates.format(h.clock.instant().minusSeconds(60)));
    assertThat(modified.statusCode()).isEqualTo(200);
    assertThat(modified.body()).isEqualTo("dated");
    assertThat(h.origin.getRequestCount()).isEqualTo(1);
  }

  @Test
  void storesMustUnderstandResponseWithKnownStatus() throws Exception {
    h.origin.enqueue(h.response("understood").setHeader("Cache-Control", "max-age=100, no-store, must-understand"));
    h.origin.enqueue(new MockResponse().setResponseCode(299).setBody("unknown status")
        .setHeader("Cache-Control", "max-age=100, must-understand"));
    h.origin.enqueue(new MockResponse().setResponseCode(299).setBody("fetched again")
        .setHeader("Cache-Control", "max-age=100, must-understand"));
    h.get("/mu");
    assertThat(verdict(h.get("/mu"))).isEqualTo("HIT");
    h.get("/mu-unknown");
    assertThat(h.get("/mu-unknown").body()).isEqualTo("fetched again");
  }
}
