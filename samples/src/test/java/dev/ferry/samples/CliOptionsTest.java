package dev.ferry.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.proxy.Concurrency;
import dev.ferry.proxy.ProxyConfig;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class CliOptionsTest {

  private static ProxyConfig configOf(String... args) {
    return CliOptions.parse(args).builder().build().config();
  }

  @Test
  void defaultsToForwardProxyOnLoopbackPort8080() {
    ProxyConfig config = configOf();
    assertThat(config.port()).isEqualTo(8080);
    assertThat(config.bindAddress()).isEqualTo("127.0.0.1");
    assertThat(config.upstream()).isEmpty();
    assertThat(config.concurrency()).isEqualTo(Concurrency.auto());
  }

  @Test
  void mapsEachFlagOntoTheBuilder() {
    ProxyConfig config = configOf("-p", "0", "-b", "0.0.0.0", "-c", "pool", "-t", "16",
        "--upstream", "http://127.0.0.1:9000/api", "--preserve-host", "--connect-timeout", "3",
        "--upstream-timeout", "7", "--idle-timeout", "11", "--max-body-bytes", "1024",
        "--max-connections", "50");
    assertThat(config.port()).isZero();
    assertThat(config.bindAddress()).isEqualTo("0.0.0.0");
    assertThat(config.concurrency()).isEqualTo(Concurrency.boundedPool(16, 10_000));
    assertThat(config.upstream()).hasValueSatisfying(upstream -> {
      assertThat(upstream.endpoints().get(0).authority()).isEqualTo("127.0.0.1:9000");
      assertThat(upstream.endpoints().get(0).basePath()).isEqualTo("/api");
      assertThat(upstream.preservesHost()).isTrue();
    });
    assertThat(config.connectTimeout()).isEqualTo(Duration.ofSeconds(3));
    assertThat(config.upstreamTimeout()).isEqualTo(Duration.ofSeconds(7));
    assertThat(config.idleTimeout()).isEqualTo(Duration.ofSeconds(11));
    assertThat(config.maxRequestBodyBytes()).isEqualTo(1024);
    assertThat(config.maxConnections()).isEqualTo(50);
  }

  @Test
  void mapsThreadModel() {
    assertThat(configOf("-c", "thread", "-t", "8").concurrency())
        .isEqualTo(Concurrency.threadPerConnection(8));
  }

  @Test
  void runsTheEventLoopsByDefaultForAPlainProxyForwardOrReverse() {
    assertThat(configOf("--upstream", "http://127.0.0.1:9000", "--event-loop").eventLoop()).isTrue();
    assertThat(configOf("--upstream", "http://127.0.0.1:9000").eventLoop()).isTrue();
    assertThat(configOf("--upstream", "http://127.0.0.1:9000", "--no-event-loop").eventLoop()).isFalse();
    assertThat(configOf().eventLoop()).isTrue();
    assertThat(configOf("--event-loop").eventLoop()).isTrue();
    assertThat(configOf("--no-event-loop").eventLoop()).isFalse();
    assertThatThrownBy(() -> CliOptions.parse("--upstream", "http://127.0.0.1:9000", "--event-loop",
        "--no-event-loop")).hasMessage("--event-loop and --no-event-loop contradict each other: keep one");
    assertThatThrownBy(() -> CliOptions.parse("--no-event-loop", "--no-event-loop"))
        .hasMessage("--no-event-loop may be given only once");
    assertThatThrownBy(() -> CliOptions.parse("--event-loop", "--event-loop"))
        .hasMessage("--event-loop may be given only once");
  }

  @Test
  void reportsHelpAndLogLevels() {
    assertThat(CliOptions.parse("-h").help()).isTrue();
    assertThat(CliOptions.parse("-v").logLevel()).isEqualTo("debug");
    assertThat(CliOptions.parse("-q").logLevel()).isEqualTo("warn");
    assertThat(CliOptions.USAGE).contains("--upstream", "--concurrency", "default 8080");
  }

  @Test
  void rejectsUnknownFlag() {
    assertThatThrownBy(() -> CliOptions.parse("--bogus"))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("unknown option --bogus");
  }

  @Test
  void rejectsFlagWithoutValue() {
    assertThatThrownBy(() -> CliOptions.parse("-p")).hasMessage("-p needs a value");
  }

  @Test
  void reusesBuilderValidationMessages() {
    assertThatThrownBy(() -> CliOptions.parse("-p", "70000"))
        .hasMessage("-p: port must be between 0 and 65535 (was 70000)");
    assertThatThrownBy(() -> CliOptions.parse("-p", "abc"))
        .hasMessage("-p must be a whole number (was abc)");
    assertThatThrownBy(() -> CliOptions.parse("--upstream", "ftp://x"))
        .hasMessageContaining("upstream must be an absolute http or https URL");
    assertThatThrownBy(() -> CliOptions.parse("-c", "fibers"))
        .hasMessage("--concurrency must be auto, virtual, pool (alias epoll) or thread (was fibers)");
  }

  @Test
  void rejectsPreserveHostWithoutUpstream() {
    assertThatThrownBy(() -> CliOptions.parse("--preserve-host"))
        .hasMessage("--preserve-host needs --upstream or --route");
  }

  @Test
  void mapsFilterFlagsOntoFiltersInOrder() {
    ProxyConfig config = configOf("--deny-host", "*.ads.example", "--allow-client", "10.0.0.0/8",
        "--auth", "alice:s3cret", "--rate-limit", "5/s:2", "--set-header", "X-Env: test");
    assertThat(config.filters()).extracting(Object::toString).containsExactly(
        "AccessControl[deny host *.ads.example, allow client 10.0.0.0/8] else deny",
        "RateLimit(5.00/s, burst 2)",
        "ProxyAuthentication(realm=ferry)",
        "setRequestHeader(X-Env)");
  }

  @Test
  void addsNoFilterUnlessAsked() {
    assertThat(configOf().filters()).isEmpty();
    assertThat(configOf("--upstream", "http://127.0.0.1:9000").filters()).isEmpty();
    assertThat(configOf("--upstream", "http://127.0.0.1:9000", "--auth", "a:b").filters())
        .extracting(Object::toString).containsExactly("Authentication(realm=ferry)");
  }

  @Test
  void rejectsMalformedFilterFlags() {
    assertThatThrownBy(() -> CliOptions.parse("--rate-limit", "fast"))
        .hasMessage("--rate-limit must be N/s or N/s:BURST, like 10/s:20 (was fast)");
    assertThatThrownBy(() -> CliOptions.parse("--auth", "nopassword"))
        .hasMessage("--auth must be USER:PASSWORD, both non-empty").message().doesNotContain("nopassword");
    assertThatThrownBy(() -> CliOptions.parse("--auth", "user:"))
        .hasMessage("--auth must be USER:PASSWORD, both non-empty");
    assertThatThrownBy(() -> CliOptions.parse("--set-header", "Authorization=Bearer_TOKENSECRET"))
        .hasMessageStartingWith("--set-header must be NAME:VALUE").message().doesNotContain("TOKENSECRET");
    assertThatThrownBy(() -> CliOptions.parse("--allow-client", "10.0.0.0/40"))
        .hasMessageContaining("CIDR prefix length");
  }

  /** A repeated flag is never silently dropped: each of these used to keep only one of its values. */
  @Test
  void refusesRepeatsThatWouldLoseAValue() {
    assertThatThrownBy(() -> CliOptions.parse("--auth", "u:q", "--auth", "u:p"))
        .hasMessage("--auth: user u given twice (one password each)");
    assertThatThrownBy(() -> CliOptions.parse("--set-header", "X-A:1", "--set-header", "x-a:2"))
        .hasMessageStartingWith("--set-header: x-a given twice");
    // CGI, PHP and WSGI backends read both as HTTP_X_TENANT: one value would be lost (probe o4).
    assertThatThrownBy(() -> CliOptions.parse("--set-header", "X_Tenant:alpha", "--set-header", "X-Tenant:beta"))
        .hasMessageStartingWith("--set-header: X-Tenant given twice");
    assertThatThrownBy(() -> CliOptions.parse("--upstream", "http://127.0.0.1:9000", "--upstream", "http://127.0.0.1:9000"))
        .hasMessageStartingWith("--upstream http://127.0.0.1:9000 given twice");
    assertThatThrownBy(() -> CliOptions.parse("--upstream", "http://127.0.0.1:9000", "--upstream", "http://127.0.0.1:9000/"))
        .as("the same endpoint, a trailing slash apart").hasMessageStartingWith("--upstream http://127.0.0.1:9000/ given twice");
    assertThatThrownBy(() -> CliOptions.parse("--upstream", "http://[::1]:9000", "--upstream", "http://[0:0:0:0:0:0:0:1]:9000"))
        .as("one IPv6 address written two ways (gateway probe F3)")
        .hasMessageStartingWith("--upstream http://[0:0:0:0:0:0:0:1]:9000 given twice");
    assertThatThrownBy(() -> CliOptions.parse("--allow-connect-port", "any", "--allow-connect-port", "443"))
        .hasMessageStartingWith("--allow-connect-port any and --allow-connect-port N contradict");
    assertThatThrownBy(() -> CliOptions.parse("--upstream", "http://127.0.0.1:9", "--retries", "99999999999"))
        .hasMessage("--retries is out of range (was 99999999999)");
    assertThatThrownBy(() -> CliOptions.parse("--route", "/a/=http://127.0.0.1:9", "--route", "/a/=http://127.0.0.1:8"))
        .hasMessageContaining("given twice");
    assertThatThrownBy(() -> CliOptions.parse("--route", "API.test/a/=http://127.0.0.1:9", "--route", "api.TEST/a/=http://127.0.0.1:8"))
        .as("host names ignore case").hasMessageContaining("given twice");
    // Paths are case-sensitive, and so is the router: two routes, both reachable.
    assertThat(CliOptions.parse("--route", "/docs/=http://127.0.0.1:9", "--route", "/Docs/=http://127.0.0.1:8")
        .builder().buildConfig().routes()).hasSize(2);
    assertThatThrownBy(() -> CliOptions.parse("--route", "/a/=http://127.0.0.1:9", "--route", "/a/b/=http://127.0.0.1:8"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("--route: route /a/b/ (number 2) can never match: route /a/ before it");
    assertThatThrownBy(() -> CliOptions.parse("-v", "-q")).hasMessageContaining("contradict");
  }

  /** A switch given twice is a mistake, refused like a repeated value (it used to pass silently). */
  @Test
  void refusesASwitchGivenTwice() {
    assertThatThrownBy(() -> CliOptions.parse("-v", "--verbose")).hasMessage("--verbose may be given only once");
    assertThatThrownBy(() -> CliOptions.parse("-q", "-q")).hasMessage("-q may be given only once");
    assertThatThrownBy(() -> CliOptions.parse("--upstream", "http://127.0.0.1:9", "--preserve-host", "--preserve-host"))
        .hasMessage("--preserve-host may be given only once");
    assertThatThrownBy(() -> CliOptions.parse("--mitm", "--mitm")).hasMessage("--mitm may be given only once");
    assertThatThrownBy(() -> CliOptions.parse("--allow-private-destinations", "--allow-private-destinations"))
        .hasMessage("--allow-private-destinations may be given only once");
  }

  /**
   * Credentials in an upstream URL are refused without being shown: the message goes to a
   * terminal, and on a reload to the log. It used to quote the URL, password and all.
   */
  @Test
  void refusesCredentialsInAnUpstreamUrlWithoutShowingThem() {
    for (String url : new String[] {"http://bob:Upw4444SECRET@127.0.0.1:9", "http://bob:pa/SECRET@127.0.0.1:9/base"}) {
      assertThatThrownBy(() -> CliOptions.parse("--upstream", url))
          .hasMessageContaining("must not hold credentials").hasMessageContaining("***@127.0.0.1:9")
          .message().doesNotContain("SECRET");
      assertThatThrownBy(() -> CliOptions.parse("--route", "/a/=" + url))
          .message().doesNotContain("SECRET");
    }
  }

  /** An address not of this host exits 2 naming the flag (it used to fail to bind, exit 1). */
  @Test
  void refusesToListenOnAnAddressOfAnotherHost() {
    assertThatThrownBy(() -> CliOptions.parse("-b", "192.0.2.1"))
        .hasMessage("--bind must be an address of this host (was 192.0.2.1: no interface here has it)");
    assertThatThrownBy(() -> CliOptions.parse("--admin-port", "0", "--admin-bind", "192.0.2.1"))
        .hasMessageStartingWith("--admin-bind must be an address of this host");
    assertThat(CliOptions.parse("-b", "0.0.0.0").builder().buildConfig().bindAddress()).isEqualTo("0.0.0.0");
    assertThat(CliOptions.parse("-b", "::1").builder().buildConfig().bindAddress()).isEqualTo("::1");
  }

  @Test
  void refusesEmptyValuesReservedNamesAndLowerCaseMethods() {
    for (String flag : new String[] {"-b", "--admin-bind", "--request-spool-dir", "--mitm-host"}) {
      assertThatThrownBy(() -> CliOptions.parse(flag, "")).as(flag).hasMessage(flag + " needs a value (was empty)");
    }
    assertThatThrownBy(() -> CliOptions.parse("--request-id-header", "Host"))
        .hasMessageStartingWith("--request-id-header cannot be Host");
    assertThatThrownBy(() -> CliOptions.parse("--allow-method", "get"))
        .hasMessageContaining("did you mean GET?");
    assertThatThrownBy(() -> CliOptions.parse("-p", "2147483648"))
        .hasMessage("-p is out of range (was 2147483648)");
    // Past a long, it read "up to 9223372036854775807", which -p's range is not (probe cli F2).
    assertThatThrownBy(() -> CliOptions.parse("-p", "99999999999999999999"))
        .hasMessage("-p is out of range (was 99999999999999999999)");
  }

  /** -t caps Java 17's default pool; where auto means virtual threads, which have no cap, it is refused. */
  @Test
  void appliesThreadsToTheDefaultModelOrRefusesIt() {
    if (Runtime.version().feature() < 21) {
      assertThat(configOf("-t", "7").concurrency().toString()).isEqualTo("boundedPool(7, 10000)");
      assertThatThrownBy(() -> CliOptions.parse("-c", "virtual")).hasMessageStartingWith("-c/--concurrency virtual needs Java 21");
    } else {
      assertThatThrownBy(() -> CliOptions.parse("-t", "7")).hasMessageStartingWith("-t/--threads caps -c pool");
      assertThat(configOf("-c", "pool", "-t", "7").concurrency().toString()).isEqualTo("boundedPool(7, 10000)");
      assertThatThrownBy(() -> CliOptions.parse("-c", "virtual", "-t", "10"))
          .hasMessageStartingWith("-t/--threads caps -c pool or -c thread; virtual threads have no cap");
    }
    assertThatThrownBy(() -> CliOptions.parse("-c", "pool", "-t", "0")).hasMessageContaining("at least 1");
  }

  /**
   * --queue sizes the pool's queue (the default, 10,000, admits as many clients as the default
   * connection limit); the models without a queue refuse it, naming the flag.
   */
  @Test
  void sizesThePoolsQueueOrRefusesItWhereThereIsNone() {
    assertThat(configOf("-c", "pool").concurrency()).isEqualTo(Concurrency.boundedPool(200, 10_000));
    assertThat(configOf("-c", "pool", "--queue", "0", "-t", "8").concurrency()).isEqualTo(Concurrency.boundedPool(8, 0));
    assertThatThrownBy(() -> CliOptions.parse("-c", "pool", "--queue", "-1"))
        .hasMessage("--queue must not be negative (was -1)");
    assertThatThrownBy(() -> CliOptions.parse("-c", "pool", "--queue", "5", "--queue", "6"))
        .hasMessage("--queue may be given only once");
    assertThatThrownBy(() -> CliOptions.parse("-c", "thread", "--queue", "5"))
        .hasMessageStartingWith("--queue sizes the queue of -c pool; -c thread queues nothing");
    if (Runtime.version().feature() < 21) {
      assertThat(configOf("--queue", "50").concurrency()).as("auto's pool, still growing")
          .isEqualTo(Concurrency.boundedPool(200, 50).growingTo(1000));
    } else {
      assertThatThrownBy(() -> CliOptions.parse("--queue", "50"))
          .hasMessageStartingWith("--queue sizes the queue of -c pool; -c auto runs virtual threads");
      assertThatThrownBy(() -> CliOptions.parse("-c", "virtual", "--queue", "50"))
          .hasMessage("--queue sizes the queue of -c pool; virtual threads need none: drop --queue, or use -c pool");
    }
  }

  /**
   * --max-threads lets the pool grow from -t; -t alone fixes it, on -c pool and on auto's pool
   * (Java 17); the models with no pool to grow refuse it, naming the flag.
   */
  @Test
  void letsThePoolGrowToMaxThreadsOrRefusesItWhereThereIsNoPool() {
    assertThat(configOf("-c", "pool", "--max-threads", "800").concurrency())
        .isEqualTo(Concurrency.boundedPool(200, 10_000).growingTo(800));
    assertThat(configOf("-c", "pool", "-t", "50", "--max-threads", "50").concurrency())
        .isEqualTo(Concurrency.boundedPool(50, 10_000));
    assertThatThrownBy(() -> CliOptions.parse("-c", "pool", "-t", "300", "--max-threads", "250"))
        .hasMessage("--max-threads 250 is below the pool's starting cap of 300 threads: give at least 300, "
            + "or lower -t/--threads");
    assertThatThrownBy(() -> CliOptions.parse("-c", "pool", "--max-threads", "100"))
        .hasMessage("--max-threads 100 is below the pool's starting cap of 200 threads: give at least 200, "
            + "or lower it with -t/--threads");
    assertThatThrownBy(() -> CliOptions.parse("-c", "pool", "--max-threads", "0"))
        .hasMessage("--max-threads must be at least 1 (was 0)");
    assertThatThrownBy(() -> CliOptions.parse("-c", "pool", "--max-threads", "400", "--max-threads", "500"))
        .hasMessage("--max-threads may be given only once");
    assertThatThrownBy(() -> CliOptions.parse("-c", "thread", "--max-threads", "400"))
        .hasMessage("--max-threads lets -c pool grow; -c thread keeps the cap -t gives: drop --max-threads, "
            + "or use -c pool");
    if (Runtime.version().feature() < 21) {
      assertThat(configOf().concurrency()).isEqualTo(Concurrency.auto());
      assertThat(configOf("-t", "300").concurrency()).as("-t fixes auto's pool").isEqualTo(Concurrency.boundedPool(300, 10_000));
      assertThat(configOf("--max-threads", "2000").concurrency())
          .isEqualTo(Concurrency.boundedPool(200, 10_000).growingTo(2000));
      assertThat(configOf("-t", "100", "--max-threads", "400").concurrency())
          .isEqualTo(Concurrency.boundedPool(100, 10_000).growingTo(400));
    } else {
      assertThatThrownBy(() -> CliOptions.parse("--max-threads", "400"))
          .hasMessageStartingWith("--max-threads lets -c pool grow; -c auto runs virtual threads on Java ");
      assertThatThrownBy(() -> CliOptions.parse("-c", "virtual", "--max-threads", "400"))
          .hasMessage("--max-threads lets -c pool grow; virtual threads have no cap: drop --max-threads, or use -c pool");
    }
  }

  /** Flags that cancel each other out were resolved silently, one of them quietly doing nothing. */
  @Test
  void refusesFlagsThatContradictEachOther() throws Exception {
    assertThatThrownBy(() -> CliOptions.parse("--access-log", "json", "-q"))
        .hasMessage("--access-log json and -q/--quiet contradict each other (-q silences the access log): keep one");
    assertThat(CliOptions.parse("--access-log", "off", "-q").logLevel()).isEqualTo("warn");
    String dir = System.getProperty("java.io.tmpdir");
    assertThatThrownBy(() -> CliOptions.parse("--request-spool-dir", dir, "--request-spool-bytes", "0"))
        .hasMessageStartingWith("--request-spool-dir and --request-spool-bytes 0 contradict each other");
    // The default port written out is the same endpoint: the pool's refusal named no flag (probe readmecli F2).
    assertThatThrownBy(() -> CliOptions.parse("--upstream", "http://127.0.0.1:80", "--upstream", "http://127.0.0.1"))
        .hasMessageStartingWith("--upstream http://127.0.0.1 given twice");
    assertThatThrownBy(() -> CliOptions.parse("--no-stats-on-proxy-port", "--upstream", "http://127.0.0.1:9000"))
        .hasMessageStartingWith("--no-stats-on-proxy-port is for forward proxies");
    assertThat(configOf("--no-stats-on-proxy-port").statsOnProxyPort()).isFalse();
  }

  @Test
  void takesALongOptionsValueAfterAnEqualsSign() {
    assertThat(configOf("--port=0", "--upstream=http://127.0.0.1:9000").port()).isZero();
    assertThatThrownBy(() -> CliOptions.parse("--nonsense=1")).hasMessage("unknown option --nonsense=1");
    assertThat(CliOptions.parse("--version").version()).isTrue();
  }

  @Test
  void enablesCacheWithSizeInMegabytes() {
    assertThat(configOf("-m", "64").cache())
        .hasValueSatisfying(spec -> assertThat(spec.maxSizeBytes()).isEqualTo(64L << 20));
    assertThat(configOf("-m", "0").cache()).isEmpty();
    assertThatThrownBy(() -> CliOptions.parse("-m", "-5")).hasMessageContaining("(was -5)");
  }
}
