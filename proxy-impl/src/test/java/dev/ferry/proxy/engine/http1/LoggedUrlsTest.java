package dev.ferry.proxy.engine.http1;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LoggedUrlsTest {

  /** OAuth tokens travel in fragments too (probe obs F1: logged in clear, and after a query as its last value's). */
  @Test
  void redactsCredentialsInAFragment() {
    assertThat(LoggedUrls.redact("/cb#access_token=t&state=x")).isEqualTo("/cb#access_token=***&state=x");
    assertThat(LoggedUrls.redact("http://a/cb?x=1#id_token=t")).isEqualTo("http://a/cb?x=1#id_token=***");
    assertThat(LoggedUrls.redact("http://a/cb?token=q#state=s&code=c"))
        .isEqualTo("http://a/cb?token=***#state=s&code=***");
    assertThat(LoggedUrls.redact("http://a#token=t")).isEqualTo("http://a#token=***");
    assertThat(LoggedUrls.redact("/p#section-2")).isEqualTo("/p#section-2");
  }

  @Test
  void replacesTheValuesOfCredentialParameters() {
    assertThat(LoggedUrls.redact("http://a/p?token=t&x=1&api_key=k&sig=s&Session_Id=9&code=c&q"))
        .isEqualTo("http://a/p?token=***&x=1&api_key=***&sig=***&Session_Id=***&code=***&q");
    assertThat(LoggedUrls.redact("/cb?state=abc&client_secret=")).isEqualTo("/cb?state=abc&client_secret=***");
    assertThat(LoggedUrls.redact("/p?pass%77ord=x&jwt=y")).isEqualTo("/p?pass%77ord=***&jwt=***");
    assertThat(LoggedUrls.redact("http://u:pw@host/q?a=1")).isEqualTo("http://***@host/q?a=1");
    assertThat(LoggedUrls.redact("alice:pw@host:443")).as("a CONNECT target").isEqualTo("***@host:443");
  }

  /** Names seen in real APIs that the first list missed (probe obs F4). */
  @Test
  void replacesKeysPasswordsAndAssertionsUnderTheirCommonNames() {
    assertThat(LoggedUrls.redact("/p?private_key=a&access_key=b&subscription-key=c&pass=d&pw=e"))
        .isEqualTo("/p?private_key=***&access_key=***&subscription-key=***&pass=***&pw=***");
    assertThat(LoggedUrls.redact("/oauth/token?client_assertion=eyJ&client_assertion_type=jwt-bearer"))
        .isEqualTo("/oauth/token?client_assertion=***&client_assertion_type=***");
    assertThat(LoggedUrls.redact("/p?AccessKey=a&privateKey=b&passphrase=c&otp=d&pin=e"))
        .isEqualTo("/p?AccessKey=***&privateKey=***&passphrase=***&otp=***&pin=***");
    assertThat(LoggedUrls.redact("/p?keyword=x&monkey=y&keys=z&pinned=1"))
        .as("key, pass and pin inside other words").isEqualTo("/p?keyword=x&monkey=y&keys=z&pinned=1");
  }

  @Test
  void replacesCredentialsAfterSemicolonsInQueriesAndPaths() {
    assertThat(LoggedUrls.redact("/p?a=1;token=t;b=2")).isEqualTo("/p?a=1;token=***;b=2");
    assertThat(LoggedUrls.redact("/p?a=1&b=x;secret=s&c")).isEqualTo("/p?a=1&b=x;secret=***&c");
    assertThat(LoggedUrls.redact("/app;jsessionid=ABC123/page?x=1"))
        .isEqualTo("/app;jsessionid=***/page?x=1");
    assertThat(LoggedUrls.redact("http://h/shop;jsessionid=ABC;v=2?sig=s"))
        .isEqualTo("http://h/shop;jsessionid=***;v=2?sig=***");
    assertThat(LoggedUrls.redact("/a;session=1?b=2;jwt=3")).isEqualTo("/a;session=***?b=2;jwt=***");
  }

  @Test
  void survivesBrokenAndNestedEscapesInParameterNames() {
    assertThat(LoggedUrls.redact("/a?%25zz=1")).isEqualTo("/a?%25zz=1");
    assertThat(LoggedUrls.redact("/a?x%ZZ=1&b=2")).isEqualTo("/a?x%ZZ=1&b=2");
    assertThat(LoggedUrls.redact("/a?%252525=1")).isEqualTo("/a?%252525=1");
    assertThat(LoggedUrls.redact("/p?pass%2577ord=x")).isEqualTo("/p?pass%2577ord=***");
  }

  @Test
  void leavesOtherUrlsAsTheyAre() {
    String plain = "http://a/p?page=2&sort=name";
    assertThat(LoggedUrls.redact(plain)).isSameAs(plain);
    assertThat(LoggedUrls.redact("/no/query")).isEqualTo("/no/query");
    assertThat(LoggedUrls.redact("/at@sign")).isEqualTo("/at@sign");
    assertThat(LoggedUrls.redact("host:443")).isEqualTo("host:443");
    assertThat(LoggedUrls.redact("/p?=token&keyboard=1")).isEqualTo("/p?=token&keyboard=1");
    assertThat(LoggedUrls.redact("/a;b/c;v=1?q=x;y")).isEqualTo("/a;b/c;v=1?q=x;y");
    assertThat(LoggedUrls.redact("http://h;x/p")).as("a semicolon in the authority").isEqualTo("http://h;x/p");
  }
}
