package dev.ferry.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.proxy.Balancer;
import dev.ferry.proxy.CacheSpec;
import dev.ferry.proxy.Concurrency;
import dev.ferry.proxy.HealthCheck;
import dev.ferry.proxy.ProxyConfig;
import dev.ferry.proxy.RetryPolicy;
import dev.ferry.proxy.Route;
import dev.ferry.proxy.Upstream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 10: the --config YAML file, parsed onto the builder, and its errors naming the line. */
class ConfigFileTest {
  @TempDir Path dir;

  private Path write(String yaml) throws IOException {
    Path file = dir.resolve("ferry.yaml");
    Files.writeString(file, yaml);
    return file;
  }

  private ProxyConfig configOf(String yaml, String... flags) throws IOException {
    Path file = write(yaml);
    String[] args = new String[flags.length + 2];
    args[0] = "--config";
    args[1] = file.toString();
    System.arraycopy(flags, 0, args, 2, flags.length);
    return CliOptions.parse(args).builder().buildConfig();
  }

  /** The complete example of the README, so that the documented file always parses. */
  private static String readmeExample() throws IOException {
    String readme = Files.readString(Path.of("..", "README.md"));
    int section = readme.indexOf("### Routes, pools and the config file");
    int start = readme.indexOf("```yaml\n", section) + "```yaml\n".length();
    return readme.substring(start, readme.indexOf("```", start));
  }

  @Test
  void readsTheReadmeExampleOntoTheBuilder() throws IOException {
    ProxyConfig config = configOf(readmeExample());
    assertThat(config.port()).isEqualTo(8080);
    assertThat(config.bindAddress()).isEqualTo("127.0.0.1");
    assertThat(config.concurrency()).isEqualTo(Concurrency.boundedPool(64, 10_000).growingTo(256));
    assertThat(config.connectTimeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(config.upstreamTimeout()).isEqualTo(Duration.ofMillis(30_500));
    assertThat(config.maxHeaderCount()).isEqualTo(100);
    assertThat(config.maxRequestBodyBytes()).isEqualTo(10L << 20);
    assertThat(config.requestSpoolBytes()).isEqualTo(256L << 20);
    assertThat(config.cache()).hasValueSatisfying(cache -> {
      assertThat(cache.maxSizeBytes()).isEqualTo(64L << 20);
      assertThat(cache.maxEntryBytes()).isEqualTo(1L << 20);
    });
    assertThat(config.filters()).extracting(Object::toString).satisfiesExactly(
        acl -> assertThat(acl).isEqualTo("AccessControl[deny host *.ads.example, "
            + "allow client 10.0.0.0/8, allow client 127.0.0.0/8] else deny"),
        rateLimit -> assertThat(rateLimit).startsWith("RateLimit(100").endsWith("/s, burst 200)"),
        header -> assertThat(header).isEqualTo("setRequestHeader(X-Env)"));

    List<Route> routes = config.routes();
    assertThat(routes).extracting(Route::name)
        .containsExactly("api-v1", "/static/", "/healthz", "~^/admin(/|$)");

    Route api = routes.get(0);
    assertThat(api.host()).hasValue("api.example.test");
    assertThat(api.path()).isEqualTo("/v1/");
    assertThat(api.stripsPrefix()).isTrue();
    assertThat(api.methods()).containsExactlyInAnyOrder("GET", "POST");
    assertThat(api.timeout()).hasValue(Duration.ofSeconds(10));
    assertThat(api.retry()).isEqualTo(RetryPolicy.retries(2).onStatuses(502, 503));
    Upstream apiPool = api.upstream();
    assertThat(apiPool.name()).isEqualTo("api");
    assertThat(apiPool.endpoints()).extracting(Upstream.Endpoint::toString).containsExactlyInAnyOrder(
        "http://10.0.0.5:8080", "http://10.0.0.6:8080*2", "http://10.0.0.7:8080*3");
    assertThat(apiPool.balancer()).isEqualTo(Balancer.leastRequests());
    assertThat(apiPool.healthCheck()).hasValue(HealthCheck.http("/health")
        .interval(Duration.ofSeconds(5)).timeout(Duration.ofSeconds(2)).healthyThreshold(2)
        .unhealthyThreshold(3).expectStatus(200, 399));
    assertThat(apiPool.maxRequests()).isEqualTo(512);
    assertThat(apiPool.ejectAfterFailures()).isEqualTo(5);
    assertThat(apiPool.baseEjection()).isEqualTo(Duration.ofSeconds(30));

    Route assets = routes.get(1);
    assertThat(assets.host()).isEmpty();
    assertThat(assets.upstream().healthCheck())
        .hasValue(HealthCheck.http("/ping").interval(Duration.ofSeconds(10)));
    assertThat(assets.cacheEnabled()).isTrue();

    Route health = routes.get(2);
    assertThat(health.pathMatch()).isEqualTo(Route.PathMatch.EXACT);
    assertThat(health.cacheEnabled()).isFalse();
    assertThat(health.retry()).isEqualTo(RetryPolicy.retries(0));

    Route admin = routes.get(3);
    assertThat(admin.pathMatch()).isEqualTo(Route.PathMatch.REGEX);
    assertThat(admin.headers()).isEqualTo(Map.of("x-admin", "yes"));
    Upstream web = config.upstream().orElseThrow();
    assertThat(admin.upstream()).isSameAs(web).isSameAs(health.upstream());
    assertThat(web.balancer()).isEqualTo(Balancer.hashCookie("session"));
    assertThat(web.preservesHost()).isTrue();
    assertThat(web.keepsLocation()).isTrue();
    assertThat(apiPool.keepsLocation()).isFalse();
  }

  @Test
  void letsFlagsOverrideScalarsOfTheFile() throws IOException {
    ProxyConfig config = configOf("""
        listener:
          port: 9000
          concurrency: pool
          threads: 8
        timeouts:
          idleTimeout: 5
        filters:
          - deny-client: 10.0.0.0/8
        """, "-p", "0", "-t", "4", "--allow-client", "127.0.0.0/8");
    assertThat(config.port()).isZero();
    assertThat(config.concurrency()).isEqualTo(Concurrency.boundedPool(4, 10_000));
    assertThat(config.idleTimeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(config.filters()).extracting(Object::toString).containsExactly(
        "AccessControl[deny client 10.0.0.0/8, allow client 127.0.0.0/8] else deny");
  }

  /**
   * listener.threads caps the default model as -t does: on Java 17 the bounded pool (it was
   * ignored unless concurrency was set too), and on Java 21+, where auto means virtual threads
   * that have no cap, it is refused naming the key.
   */
  @Test
  void appliesListenerThreadsLikeTheFlag() throws IOException {
    Path file = write("""
        listener:
          threads: 64
        """);
    if (Runtime.version().feature() < 21) {
      assertThat(CliOptions.parse("--config", file.toString()).builder().buildConfig().concurrency())
          .isEqualTo(Concurrency.boundedPool(64, 10_000));
    } else {
      assertThatThrownBy(() -> CliOptions.parse("--config", file.toString()))
          .isInstanceOf(ConfigFileException.class)
          .hasMessageStartingWith(file + " line 2: listener.threads caps -c pool or -c thread")
          .hasMessageEndingWith("drop listener.threads");
    }
  }

  /** listener.queue sizes the pool's queue as --queue does, and a value the pool cannot take names its line. */
  @Test
  void appliesListenerQueueLikeTheFlag() throws IOException {
    Path file = write("""
        listener:
          concurrency: pool
          queue: 300
        """);
    assertThat(CliOptions.parse("--config", file.toString()).builder().buildConfig().concurrency())
        .isEqualTo(Concurrency.boundedPool(200, 300));
    assertLine("listener:\n  queue: -1\n", 2, "listener.queue must not be negative (was -1)");
    Path thread = write("""
        listener:
          concurrency: thread
          queue: 300
        """);
    assertThatThrownBy(() -> CliOptions.parse("--config", thread.toString()))
        .isInstanceOf(ConfigFileException.class)
        .hasMessageStartingWith(thread + " line 3: listener.queue sizes the queue of -c pool; -c thread queues nothing");
  }

  /** A model this Java lacks is refused naming the file's line, as the flag names itself. */
  @Test
  void namesTheLineOfAConcurrencyModelThisJavaLacks() throws IOException {
    int java = Runtime.version().feature();
    if (java < 21) {
      assertLine("listener:\n  concurrency: virtual\n", 2, "listener.concurrency virtual needs Java 21 or "
          + "later (this is Java " + java + "): use auto or pool");
    } else {
      Path file = write("listener:\n  concurrency: virtual\n");
      assertThat(CliOptions.parse("--config", file.toString()).builder().buildConfig().concurrency())
          .isEqualTo(Concurrency.virtualThreads());
    }
  }

  /** listener.maxThreads lets the pool grow as --max-threads does, and a value it cannot take names its line. */
  @Test
  void appliesListenerMaxThreadsLikeTheFlag() throws IOException {
    Path file = write("""
        listener:
          concurrency: pool
          threads: 100
          maxThreads: 400
        """);
    assertThat(CliOptions.parse("--config", file.toString()).builder().buildConfig().concurrency())
        .isEqualTo(Concurrency.boundedPool(100, 10_000).growingTo(400));
    assertThat(CliOptions.parse("--config", file.toString(), "--max-threads", "500").builder().buildConfig()
        .concurrency()).as("the flag over the file").isEqualTo(Concurrency.boundedPool(100, 10_000).growingTo(500));
    assertLine("listener:\n  maxThreads: 0\n", 2, "listener.maxThreads must be at least 1 (was 0)");
    Path below = write("""
        listener:
          concurrency: pool
          threads: 100
          maxThreads: 50
        """);
    assertThatThrownBy(() -> CliOptions.parse("--config", below.toString()))
        .isInstanceOf(ConfigFileException.class)
        .hasMessageStartingWith(below + " line 4: listener.maxThreads 50 is below the pool's starting cap of 100");
  }

  /**
   * listener.eventLoop turns the event loops off (or insists on them) as --no-event-loop and
   * --event-loop do, and either flag overrides it; a value other than true or false names its line.
   */
  @Test
  void appliesListenerEventLoopLikeTheFlags() throws IOException {
    assertThat(eventLoop("false")).isFalse();
    assertThat(eventLoop("false", "--event-loop")).as("the flag over the file").isTrue();
    assertThat(eventLoop("true")).isTrue();
    assertThat(eventLoop("true", "--no-event-loop")).as("the flag over the file").isFalse();
    assertLine("listener:\n  eventLoop: maybe\n", 2, "listener.eventLoop must be true or false (was maybe)");
  }

  /** The effective eventLoop of a reverse proxy's file with {@code listener.eventLoop: value}, and flags. */
  private boolean eventLoop(String value, String... flags) throws IOException {
    Path file = write("listener:\n  eventLoop: " + value + "\n"
        + "pools:\n  - name: web\n    endpoints: [http://127.0.0.1:9001]\nupstream: web\n");
    List<String> args = new ArrayList<>(List.of("--config", file.toString()));
    args.addAll(List.of(flags));
    return CliOptions.parse(args.toArray(String[]::new)).builder().buildConfig().eventLoop();
  }

  @Test
  void refusesRoutingFlagsNextToTheFile() throws IOException {
    Path file = write("""
        pools:
          - name: web
            endpoints: [http://127.0.0.1:9001]
        upstream: web
        """);
    for (String[] flag : List.of(new String[] {"--upstream", "http://127.0.0.1:9002"},
        new String[] {"--route", "/a/=http://127.0.0.1:9002"}, new String[] {"--lb", "random"},
        new String[] {"--retries", "2"}, new String[] {"--preserve-host"})) {
      String[] args = flag.length == 1 ? new String[] {"--config", file.toString(), flag[0]}
          : new String[] {"--config", file.toString(), flag[0], flag[1]};
      assertThatThrownBy(() -> CliOptions.parse(args))
          .hasMessage(flag[0] + " cannot be combined with --config: pools and routes come from the file");
    }
  }

  @Test
  void treatsAnEmptyFileAsNoOptions() throws IOException {
    ProxyConfig config = configOf("# nothing yet\n");
    assertThat(config.isReverse()).isFalse();
    assertThat(config.port()).isEqualTo(8080);
    assertThat(configOf("---\n").port()).as("an empty document").isEqualTo(8080);
  }

  /** Messages showed ConfigNode@1b2c3d for a list, named no key for .inf, and an empty key. */
  @Test
  void namesTheKeyAndTheKindOfAWrongValue() throws IOException {
    assertLine("listener:\n  threads: [1]\n", 2, "listener.threads must be a whole number (was a list)");
    // In the MiB the key counts, the cache's own bound (probe v29: in bytes, and a false one).
    assertLine("cache:\n  sizeMb: 17592186044417\n", 2,
        "cache.sizeMb must be between 1 and 1048576 (1 TiB; was 17592186044417)");
    assertLine("cache:\n  sizeMb: 2000000\n", 2, "cache.sizeMb must be between 1 and 1048576 (1 TiB; was 2000000)");
    assertLine("listener:\n  port: {a: 1}\n", 2, "listener.port must be a whole number (was a mapping)");
    assertLine("timeouts:\n  idleTimeout: .inf\n", 2, "timeouts.idleTimeout must be a number of seconds (was .inf)");
    assertLine("- 1\n", 1, "the file must be a mapping of listener, timeouts, limits, cache, upstreamCa, "
        + "filters, pools, routes, upstream");
  }

  /**
   * Values are read as written: YAML 1.1 made {@code yes} true, {@code 1.10} 1.1 and {@code 010}
   * 8, and a route matched on the converted text (probe g14); a number that YAML 1.1 would
   * convert (octal, hex, digits grouped) is refused where a whole number is wanted.
   */
  @Test
  void readsValuesAsWrittenAndRefusesNumbersYamlWouldConvert() throws IOException {
    ProxyConfig config = configOf("""
        pools:
          - name: api
            endpoints: [http://127.0.0.1:9001]
        routes:
          - pool: api
            headers: {X-A: yes, X-B: 1.10, X-C: 010, X-D: 0x1F, X-E: 1_000, X-F: on}
        """);
    assertThat(config.routes().get(0).headers()).containsExactlyInAnyOrderEntriesOf(java.util.Map.of(
        "x-a", "yes", "x-b", "1.10", "x-c", "010", "x-d", "0x1F", "x-e", "1_000", "x-f", "on"));
    for (String number : new String[] {"010", "0x1F", "1_000"}) {
      assertLine("listener:\n  threads: " + number + "\n", 2,
          "listener.threads must be a whole number in decimal digits, without leading zeros (was " + number + ")");
    }
  }

  /**
   * Templating tools (Helm's {@code quote}, envsubst) quote every value: a quoted number or
   * boolean is the number or boolean it spells (probe g22: refused with a message that showed
   * the very value it asked for), and YAML 1.1's {@code yes}/{@code on} are read as written, so
   * refused as booleans like any other word.
   */
  @Test
  void takesQuotedNumbersAndBooleansAndRefusesYamlWordsForBooleans() throws IOException {
    ProxyConfig config = configOf("""
        listener:
          port: "0"
          concurrency: "pool"
          threads: '16'
        pools:
          - name: api
            endpoints: [http://127.0.0.1:9001]
            preserveHost: "true"
            keepLocation: 'FALSE'
        upstream: api
        """);
    assertThat(config.port()).isZero();
    assertThat(config.concurrency()).isEqualTo(Concurrency.boundedPool(16, 10_000));
    assertThat(config.upstream().orElseThrow().preservesHost()).isTrue();
    assertThat(config.upstream().orElseThrow().keepsLocation()).isFalse();
    for (String word : new String[] {"yes", "on", "\"no\""}) {
      assertLine("pools:\n  - name: api\n    endpoints: [http://127.0.0.1:9001]\n    preserveHost: " + word
          + "\nupstream: api\n", 4, "pools[0].preserveHost must be true or false (was " + word.replace("\"", "") + ")");
    }
  }

  @Test
  void namesTheLineOfAnUnknownKey() throws IOException {
    Path file = write("""
        listener:
          port: 8080
          prot: 9090
        """);
    assertThatThrownBy(() -> CliOptions.parse("--config", file.toString()))
        .isInstanceOf(ConfigFileException.class)
        .hasMessage(file + " line 3: listener.prot is not a known key; expected one of port, bind, "
            + "concurrency, threads, queue, maxThreads, eventLoop")
        .satisfies(e -> assertThat(((ConfigFileException) e).line()).isEqualTo(3));
  }

  @Test
  void namesTheLineOfABuilderValidationError() throws IOException {
    assertLine("""
        pools:
          - name: api
            endpoints:
              - http://127.0.0.1:9001
              - http://127.0.0.1:9002*0
        """, 5, "pools[0].endpoints[1]: weight must be between 1 and 1000 (was 0)");
    assertLine("""
        limits:
          maxHeaderBytes: 10
        """, 2, "limits.maxHeaderBytes: maxHeaderBytes must be between 1024 and 1048576 (was 10)");
    assertLine("""
        timeouts:
          idleTimeout: soon
        """, 2, "timeouts.idleTimeout must be a number of seconds (was soon)");
  }

  @Test
  void readsTheRequestSpoolOptionsWithTheDirectoryRelativeToTheFile() throws IOException {
    Files.createDirectory(dir.resolve("spool"));
    ProxyConfig config = configOf("""
        limits:
          requestSpoolBytes: 1048576
          requestSpoolDirectory: spool
        """);
    assertThat(config.requestSpoolBytes()).isEqualTo(1048576);
    assertThat(config.requestSpoolDirectory()).hasValue(dir.toAbsolutePath().resolve("spool"));
    assertLine("""
        limits:
          requestSpoolBytes: -1
        """, 2, "limits.requestSpoolBytes: requestSpoolBytes must not be negative (was -1)");
    assertLine("""
        limits:
          requestBufferBytes: 1048576
          requestSpoolDirectory: missing
        """, 3, "limits.requestSpoolDirectory: requestSpoolDirectory must be an existing directory (was "
            + dir.toAbsolutePath().resolve("missing") + ")");
  }

  @Test
  void namesTheLineOfRouteErrors() throws IOException {
    String pools = """
        pools:
          - name: api
            endpoints: [http://127.0.0.1:9001]
        routes:
          - pathPrefix: /v1/
            pool: api
        """;
    assertLine(pools + "  - pathPrefix: /v2/\n    pool: apii\n", 8,
        "routes[1].pool names no pool (was apii); pools: api");
    assertLine(pools + "  - path: /x\n    pathPrefix: /y\n    pool: api\n", 7,
        "routes[1] may have only one of pathPrefix, path and pathRegex");
    assertLine(pools + "  - pathPrefix: /v3/\n    pool: api\n    retries: {count: 2, statuses: [404]}\n", 9,
        "routes[1].retries.statuses: retry status must be between 500 and 599 (was 404)");
    assertLine(pools + "  - pathPrefix: /v4/\n    pool: api\n    balancer: random\n", 9,
        "routes[1].balancer is not a known key; expected one of name, host, pathPrefix, path, "
            + "pathRegex, methods, headers, pool, cache, timeoutSeconds, retries, stripPrefix");
    assertLine(pools.substring(0, pools.indexOf("routes:")), 2,
        "pools[0] defines pool api, which no route and no upstream uses: route to it (routes: ... "
            + "pool: api, or upstream: api) or remove it");
    assertLine(pools.replace("routes:", "  - name: spare\n    endpoints: [http://127.0.0.1:9002]\nroutes:"), 4,
        "pools[1] defines pool spare, which no route and no upstream uses: route to it (routes: ... "
            + "pool: spare, or upstream: spare) or remove it");
    assertLine(pools + "  - pathPrefix: /v1/users/\n    pool: api\n", 7,
        "routes[1] can never match: route /v1/ before it matches every request it would; remove it, "
            + "or move it before the wider one");
    assertLine(pools.replace("name: api", "name: api\n    balancer: fastest"), 3,
        "pools[0].balancer must be round-robin, weighted, least-requests, random, hash:header:NAME, "
            + "hash:cookie:NAME, hash:client-ip or hash:path (was fastest)");
  }

  /**
   * A section that is a list says so, whatever was written instead (probe d9): a mapping was told
   * to be a value or a list of values, and a value to be a mapping.
   */
  @Test
  void saysThatPoolsRoutesAndFiltersAreListsOfItems() throws IOException {
    assertLine("pools: x\n", 1, "pools must be a list, one item per entry, each written like "
        + "\"- name: api\" with its endpoints on the lines below");
    assertLine("pools:\n  name: api\n  endpoints: [http://127.0.0.1:9001]\n", 1,
        "pools must be a list, one item per entry, each written like \"- name: api\" with its "
            + "endpoints on the lines below");
    assertLine("routes:\n  pathPrefix: /api/\n  pool: api\n", 1, "routes must be a list, one item per "
        + "entry, each written like \"- pathPrefix: /api/\" with its pool on the lines below");
    assertLine("filters:\n  deny-host: x\n", 1,
        "filters must be a list, one item per entry, each written like - deny-host: \"*.ads.example\"");
  }

  @Test
  void namesTheLineOfFilterErrorsAndDuplicateKeys() throws IOException {
    assertLine("""
        filters:
          - deny-host: "*.ads.example"
          - rate-limit: fast
        """, 3, "filters[1].rate-limit: --rate-limit must be N/s or N/s:BURST, like 10/s:20 (was fast)");
    assertLine("""
        filters:
          - block-host: x
        """, 2, "filters[0].block-host is not a known key; expected one of allow-client, "
            + "allow-connect-port, allow-host, allow-method, allow-port, allow-private-destinations, "
            + "auth, deny-client, deny-host, deny-method, deny-port, rate-limit, set-header");
    assertLine("""
        listener:
          port: 1
          port: 2
        """, 3, "listener.port is given twice");
    // Jackson reads an alias as its anchor's name: a deny rule would name the wrong host.
    assertLine("""
        filters:
          - deny-host: [other.test, &blocked evil.test]
          - deny-host: *blocked
        """, 3, "filters[1].deny-host: YAML aliases (*name) are not supported; write the value out");
  }

  @Test
  void namesTheLineOfAYamlSyntaxError() throws IOException {
    Path file = write("""
        listener:
          port: 8080
        routes:
          - pathPrefix: /a/
           pool: [unclosed
        """);
    assertThatThrownBy(() -> CliOptions.parse("--config", file.toString()))
        .isInstanceOf(ConfigFileException.class)
        .satisfies(e -> assertThat(((ConfigFileException) e).line()).isBetween(4, 6))
        .hasMessageStartingWith(file + " line ")
        .hasMessageNotContaining("\n");
  }

  @Test
  void refusesAConfigFileItCannotReadNamingTheFlag() {
    Path missing = dir.resolve("absent.yaml");
    assertThatThrownBy(() -> CliOptions.parse("--config", missing.toString()))
        .hasMessage("--config cannot read " + missing + ": no such file");
    assertThatThrownBy(() -> CliOptions.parse("--config", dir.toString()))
        .hasMessage("--config cannot read " + dir + ": not a readable file");
    assertThatThrownBy(() -> CliOptions.parse("--config"))
        .hasMessage("--config needs a value");
  }

  /**
   * A route's {@code cache: true} with no cache anywhere did nothing, silently; it is refused
   * naming its line, unless the file's cache section or {@code -m} gives one.
   */
  @Test
  void refusesARouteAskingForTheCacheWhenThereIsNone() throws IOException {
    String routes = "pools:\n  - name: a\n    endpoints: [\"http://127.0.0.1:9\"]\n"
        + "routes:\n  - pathPrefix: /static/\n    pool: a\n    cache: true\n";
    assertThatThrownBy(() -> configOf(routes))
        .isInstanceOf(ConfigFileException.class)
        .hasMessageContaining("line 7").hasMessageContaining("asks for the cache, but none is configured");
    assertThat(configOf(routes, "-m", "1").cache()).isPresent();
    // -m next to the file's cache changes its size alone, as a flag overrides one value.
    CacheSpec sized = configOf("cache:\n  sizeMb: 1\n  maxEntryBytes: 100\n  storeSetCookie: true\n", "-m", "8")
        .cache().orElseThrow();
    assertThat(sized.maxSizeBytes()).isEqualTo(8L << 20);
    assertThat(sized.maxEntryBytes()).isEqualTo(100);
    assertThat(sized.storesSetCookie()).isTrue();
    assertThat(configOf("cache:\n  sizeMb: 1\n" + routes).cache()).isPresent();
    assertThat(configOf(routes.replace("cache: true", "cache: false")).cache()).isEmpty();
  }

  @Test
  void readsWhoMayPurgeFromTheCacheSection() throws IOException {
    assertThat(configOf("cache:\n  purgeFrom: [10.1.0.0/16, \"::1\"]\n").cache().orElseThrow().purgeClients())
        .containsExactly("10.1.0.0/16", "::1");
    assertThat(configOf("cache:\n  purgeFrom: none\n").cache().orElseThrow().purgeClients()).isEmpty();
    assertThat(configOf("cache:\n  purgeFrom: []\n").cache().orElseThrow().purgeClients()).isEmpty();
    assertThatThrownBy(() -> configOf("cache:\n  purgeFrom: [deploy.example.com]\n"))
        .isInstanceOf(ConfigFileException.class).hasMessageContaining("line 2")
        .hasMessageContaining("deploy.example.com");
  }

  @Test
  void readsTheTargetedFieldFromTheCacheSection() throws IOException {
    CacheSpec targeted = configOf("cache:\n  targetedField: Acme-Cache-Control\n  hideTargetedField: true\n")
        .cache().orElseThrow();
    assertThat(targeted.targetedField()).isEqualTo("Acme-Cache-Control");
    assertThat(targeted.hidesTargetedField()).isTrue();
    assertThat(configOf("cache:\n  hideTargetedField: false\n").cache().orElseThrow().hidesTargetedField()).isFalse();
    assertThatThrownBy(() -> configOf("cache:\n  targetedField: Cache-Control\n"))
        .isInstanceOf(ConfigFileException.class).hasMessageContaining("line 2");
  }

  @Test
  void refusesTheConfigFlagTwice() throws IOException {
    Path file = write("listener: {port: 0}\n");
    assertThatThrownBy(() -> CliOptions.parse("--config", file.toString(), "--config", file.toString()))
        .hasMessage("--config may be given only once");
  }

  /**
   * Conflicts between the file and the flags, or inside the file, are named: they were refused in
   * the builder's words, or as if a flag given once were given twice (probe readmecli F2).
   */
  @Test
  void namesTheFileAndTheFlagsOfAConflict() throws IOException {
    Path file = write("""
        limits:
          requestSpoolDirectory: .
        filters:
          - rate-limit: 10/s
        """);
    assertThatThrownBy(() -> CliOptions.parse("--config", file.toString(), "--request-spool-bytes", "0"))
        .isInstanceOf(ConfigFileException.class)
        .hasMessage(file + " line 2: limits.requestSpoolDirectory contradicts --request-spool-bytes 0 (0 turns "
            + "spooling off): keep one");
    assertThatThrownBy(() -> CliOptions.parse("--config", file.toString(), "--rate-limit", "5/s"))
        .hasMessage("--rate-limit: the config file's filters have a rate-limit already; give one, in the file "
            + "or as the flag");
    Path routes = write("""
        pools:
          - name: api
            endpoints: [http://127.0.0.1:9001]
        routes:
          - name: r
            pool: api
            pathPrefix: /a/
          - name: r
            pool: api
            pathPrefix: /b/
        """);
    assertThatThrownBy(() -> CliOptions.parse("--config", routes.toString()))
        .hasMessageStartingWith("--config " + routes + ": two routes are named r");
  }

  private void assertLine(String yaml, int line, String detail) throws IOException {
    Path file = write(yaml);
    assertThatThrownBy(() -> CliOptions.parse("--config", file.toString()))
        .isInstanceOf(ConfigFileException.class)
        .hasMessage(file + " line " + line + ": " + detail);
  }
}
