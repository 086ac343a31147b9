package dev.ferry.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.proxy.CertificateAuthority;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI as a process: what a script that starts it and waits for its port can rely on. */
class CliStartupTest {
  private static final Duration DEADLINE = Duration.ofSeconds(30);

  @TempDir
  Path dir;
  private Process cli;

  @AfterEach
  void stop() throws InterruptedException {
    if (cli != null) {
      cli.destroy();
      if (!cli.waitFor(10, TimeUnit.SECONDS)) {
        cli.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  private Process run(String... args) throws IOException {
    return runWithHeap("-Xmx256m", args);
  }

  private Process runWithHeap(String maxHeap, String... args) throws IOException {
    return runWithJvmOptions(List.of(maxHeap), args);
  }

  private Process runWithJvmOptions(List<String> jvmOptions, String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    command.addAll(jvmOptions);
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), FerryCli.class.getName()));
    command.addAll(List.of(args));
    return new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(dir.resolve("cli.log").toFile()).start();
  }

  /**
   * A proxy out of file descriptors pauses its accepts and serves again once it has some back.
   * The first failed accept's warning loaded the time zone data, which failed for want of a
   * descriptor, and the Error ended the accept thread: the port went on taking connections that
   * nothing answered (probe bodyfile2 F1).
   */
  @Test
  void servesAgainOnceItHasFileDescriptorsBack() throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/bin/sh")) && Files.isDirectory(Path.of("/proc/self/fd")),
        "needs /bin/sh's ulimit and /proc (Linux)");
    int port = freePort();
    List<String> command = new ArrayList<>(List.of("/bin/sh", "-c", "ulimit -n 160 && exec \"$@\"", "sh",
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx128m",
        // The CLI's own logger, as in its jar (the test class path also holds slf4j-simple).
        "-Dslf4j.provider=" + CliLogProvider.class.getName(),
        "-cp", System.getProperty("java.class.path"), FerryCli.class.getName(), "-p", Integer.toString(port), "-q"));
    cli = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(dir.resolve("cli.log").toFile()).start();
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    // Its Listening line first, as scripts wait, without connecting meanwhile: the CLI loads its
    // banner's classes from the test's class directories, a descriptor each, after the port opens
    // (from a jar they need none), and connects that spun until then had taken them all.
    while (!log().contains("Listening on")) {
      assertThat(cli.isAlive()).as("the CLI runs: %s", log()).isTrue();
      assertThat(System.nanoTime() - deadline).as("the CLI to start: %s", log()).isNegative();
      Thread.onSpinWait();
    }
    // Connecting alone: a request's answer may log, and the first log line was the one that failed.
    assertThat(accepts(port)).as("the port is open: %s", log()).isTrue();

    List<Socket> held = new ArrayList<>();
    try {
      // More connections than the proxy has descriptors: the rest wait in the kernel's backlog.
      for (int i = 0; i < 400; i++) {
        Socket socket = new Socket();
        held.add(socket);
        try {
          socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
        } catch (IOException backlogFull) {
          // The backlog is full too: the proxy's accepts fail meanwhile.
        }
      }
      deadline = System.nanoTime() + DEADLINE.toNanos();
      Path descriptors = Path.of("/proc", Long.toString(cli.pid()), "fd");
      while (openFiles(descriptors) < 155) {
        assertThat(System.nanoTime() - deadline).as("the proxy to run out of descriptors: %s", log()).isNegative();
        Thread.onSpinWait();
      }
    } finally {
      for (Socket socket : held) {
        socket.close();
      }
    }
    deadline = System.nanoTime() + DEADLINE.toNanos();
    while (!answers(port)) {
      assertThat(cli.isAlive()).as("the CLI runs: %s", log()).isTrue();
      assertThat(System.nanoTime() - deadline).as("the proxy to answer again: %s", log()).isNegative();
      Thread.onSpinWait();
    }
  }

  private static long openFiles(Path descriptors) throws IOException {
    try (java.util.stream.Stream<Path> open = Files.list(descriptors)) {
      return open.count();
    }
  }

  /** True if a request to the proxy on {@code port} is answered (a forward proxy's 400 will do). */
  private static boolean answers(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
      socket.setSoTimeout(2000);
      socket.getOutputStream().write("GET / HTTP/1.1\r\nHost: ferry.test\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      byte[] start = socket.getInputStream().readNBytes(9);
      return new String(start, StandardCharsets.ISO_8859_1).startsWith("HTTP/1.1 ");
    } catch (IOException e) {
      return false;
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  /** A client that connects as soon as the port opens finds the CA certificate to trust. */
  @Test
  void writesTheInterceptionCaBeforeThePortOpens() throws Exception {
    int port = freePort();
    Path caOut = dir.resolve("ca.pem");
    cli = run("-p", Integer.toString(port), "--mitm", "--ca-out", caOut.toString());
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    while (!accepts(port)) {
      assertThat(cli.isAlive()).as("the CLI runs: %s", log()).isTrue();
      assertThat(System.nanoTime() - deadline).as("the port to open").isNegative();
      Thread.onSpinWait();
    }
    assertThat(caOut).as("the CA file once the port accepts").exists();
    assertThat(Files.readString(caOut)).startsWith("-----BEGIN CERTIFICATE-----");
  }

  /**
   * A cache the heap cannot hold is refused at start, naming the flag: accepted, it filled the
   * heap, and the proxy went on accepting connections it never answered, deaf to SIGTERM (probe
   * c28).
   */
  @Test
  void refusesACacheLargerThanTheHeap() throws Exception {
    cli = runWithHeap("-Xmx64m", "-p", "0", "-m", "200");
    assertThat(cli.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)).isTrue();
    assertThat(cli.exitValue()).as(log()).isEqualTo(2);
    assertThat(log()).contains("-m/--cache-mb: a cache of 200 MiB does not fit in this JVM's heap");
  }

  /**
   * --help and --version answer whatever came before them: after flags that contradict each
   * other they failed with a stack trace and exit status 1 (probe readmecli F1).
   */
  @Test
  void answersHelpAndVersionAfterContradictoryFlags() throws Exception {
    for (String ask : new String[] {"--help", "--version"}) {
      cli = run("--request-spool-dir", dir.toString(), "--request-spool-bytes", "0", ask);
      assertThat(cli.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)).isTrue();
      assertThat(cli.exitValue()).as(log()).isZero();
      assertThat(log()).as(ask).contains(ask.equals("--help") ? "--request-spool-bytes" : "ferry ")
          .doesNotContain("Exception");
    }
  }

  /** A proxy that cannot start leaves no CA behind, so a retry can write its key there. */
  @Test
  void removesTheCaFilesWhenThePortIsTaken() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Path caOut = dir.resolve("ca.pem");
      Path keyOut = dir.resolve("ca.key");
      cli = run("-p", Integer.toString(taken.getLocalPort()), "--mitm", "--ca-out", caOut.toString(),
          "--ca-key-out", keyOut.toString());
      assertThat(cli.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)).isTrue();
      assertThat(cli.exitValue()).as(log()).isEqualTo(1);
      assertThat(caOut).doesNotExist();
      assertThat(keyOut).doesNotExist();
    }
  }

  /**
   * A CA certificate an earlier run wrote, which clients may trust, is put back when a later run
   * that replaced it cannot start (it used to be deleted with the files the run created).
   */
  @Test
  void putsBackTheCaFileItReplacedWhenThePortIsTaken() throws Exception {
    Path caOut = dir.resolve("ca.pem");
    String earlier = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    Files.writeString(caOut, earlier);
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      cli = run("-p", Integer.toString(taken.getLocalPort()), "--mitm", "--ca-out", caOut.toString());
      assertThat(cli.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)).isTrue();
      assertThat(cli.exitValue()).as(log()).isEqualTo(1);
    }
    assertThat(Files.readString(caOut)).isEqualTo(earlier);
  }

  /**
   * A stop asked for with SIGTERM (systemctl stop, docker stop) is the normal end: exit 0 once
   * drained, not the JVM's 143, which service managers count as a failure.
   */
  @Test
  void exitsZeroWhenAskedToStop() throws Exception {
    startAndAwaitBanner(freePort());
    signal("TERM");
    assertThat(cli.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)).as("the CLI to stop").isTrue();
    assertThat(cli.exitValue()).as(log()).isZero();
    assertThat(log()).contains("proxy_stopped");
  }

  /**
   * With --config, -v still turns on debug logging in the CLI's own format. Reading the file
   * for the reloader's baseline made a logger before the CLI set its binding and level: slf4j's
   * default took over, -q and -v were ignored, and the format changed (CLI probe).
   */
  @Test
  void logsAtTheLevelAskedForWithAConfigFile() throws Exception {
    Path config = Files.writeString(dir.resolve("ferry.yaml"), "listener:\n  port: " + freePort() + "\n");
    cli = run("--config", config.toString(), "-v");
    awaitBanner();
    assertThat(log()).contains("] [DEBUG] [").containsPattern("\\] \\[INFO\\] \\[[^]]+\\] proxy_started");
  }

  /**
   * Likewise with --ca-cert: loading the CA while the flags were parsed bound slf4j to its
   * default before the CLI chose its own, and -q, -v and the line format were ignored (probe d24).
   */
  @Test
  void logsAtTheLevelAskedForWithACaCertificate() throws Exception {
    CertificateAuthority ca = CertificateAuthority.generate(Duration.ofDays(1));
    Path certificate = Files.writeString(dir.resolve("ca.pem"), ca.certificatePem());
    Path key = Files.writeString(dir.resolve("ca.key"), ca.privateKeyPem());
    cli = run("-p", Integer.toString(freePort()), "--ca-cert", certificate.toString(), "--ca-key", key.toString(), "-v");
    awaitBanner();
    assertThat(log()).contains("] [DEBUG] [").containsPattern("\\] \\[INFO\\] \\[[^]]+\\] proxy_started")
        .doesNotContain("] INFO dev.ferry");
  }

  /**
   * A line without {@code conn=} (a refused connect upstream) still names the connection it came
   * from in its thread column: from the MDC now that threads are not renamed per connection.
   */
  @Test
  void namesEachLinesConnectionInItsThreadColumn() throws Exception {
    int port = freePort();
    cli = run("-p", Integer.toString(port), "--upstream", "http://127.0.0.1:" + freePort());
    long deadline = awaitBanner();
    assertThat(answers(port)).isTrue();
    assertThat(answers(port)).isTrue();
    Pattern refused = Pattern.compile("\\[WARN\\] \\[(ferry-conn-" + port + "-\\d+)\\] server_connect_failed ");
    while (refused.matcher(log()).results().count() < 2) {
      assertThat(System.nanoTime() - deadline).as("two refused connects logged: %s", log()).isNegative();
      Thread.onSpinWait();
    }
    assertThat(refused.matcher(log()).results().map(match -> match.group(1)).distinct())
        .as("each line names its own connection").hasSize(2);
  }

  /**
   * A proxy with no https upstream loads no TLS. Every start took the JVM's default TLS client
   * for https upstreams it might have: that read the JDK's CA file and loaded the JSSE provider,
   * about 500 classes, a third of a second of start and 8 MiB of resident memory that a plain
   * HTTP proxy never used (#14).
   */
  @Test
  void loadsNoTlsForAPlainHttpProxy() throws Exception {
    int port = freePort();
    Path classes = dir.resolve("classes.log");
    cli = runWithJvmOptions(List.of("-Xmx256m", "-Xlog:class+load=info:file=" + classes),
        "-p", Integer.toString(port), "--upstream", "http://127.0.0.1:" + freePort());
    awaitBanner();
    assertThat(answers(port)).as("a request served (502: nothing listens upstream)").isTrue();
    cli.destroy();
    assertThat(cli.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)).as("the CLI to stop").isTrue();
    assertThat(Files.readString(classes))
        .as("classes loaded").contains("dev.ferry.proxy.engine.tls.UpstreamHandshake ")
        .doesNotContain("sun.security.ssl.SSLContextImpl ", "sun.security.ssl.TrustStoreManager ");
  }

  /** logrotate's {@code kill -HUP}: without --config there is nothing to reload, and the proxy goes on. */
  @Test
  void goesOnAfterAHangupWithoutAConfigFile() throws Exception {
    int port = freePort();
    hangUpAndAwaitItsLine(startAndAwaitBanner(port));
    assertThat(accepts(port)).isTrue();
  }

  /**
   * The heap the JVM committed at launch by its own rule (without -Xms, a 64th of the machine's
   * memory, -Xmx at most) is given back once the proxy runs: G1 cycled its young generation
   * through all of it, and the proxy's resident memory under load was the machine's share, not
   * what the load needed (about 335 MiB peak). On G1 it keeps a quarter of it: below that G1 grew
   * the heap back halfway in one step as soon as a load began (samples/bench/README.md, "Memory").
   */
  @Test
  void givesBackTheHeapTheJvmCommittedAtLaunch() throws Exception {
    cli = run("-p", Integer.toString(freePort()), "-v");
    hangUpAndAwaitItsLine(awaitBanner());
    Matcher trimmed = Pattern.compile("heap_trimmed committed_mb=(\\d+) was_mb=(\\d+) floor_mb=(\\d+) ")
        .matcher(log());
    assertThat(trimmed.find()).as("the trim logged: %s", log()).isTrue();
    long committed = Long.parseLong(trimmed.group(1));
    long was = Long.parseLong(trimmed.group(2));
    assumeTrue(was >= 64, "the JVM started with " + was + " MiB of heap, too little to show a trim");
    assertThat(committed).as("MiB committed after the trim").isLessThan(was / 2)
        .isGreaterThanOrEqualTo(Long.parseLong(trimmed.group(3)));
  }

  /** A starting heap the user chose is theirs: no collection is forced to shrink it. */
  @Test
  void keepsAStartingHeapTheUserChose() throws Exception {
    cli = runWithHeap("-Xms64m", "-p", Integer.toString(freePort()), "-v");
    hangUpAndAwaitItsLine(awaitBanner());
    assertThat(log()).contains("proxy_started").doesNotContain("heap_trimmed");
  }

  /**
   * Starts the CLI on {@code port} and waits for its banner, which comes once the proxy is set
   * up, its signal handlers too (the port opens before); returns the test's deadline.
   */
  private long startAndAwaitBanner(int port) throws Exception {
    cli = run("-p", Integer.toString(port));
    return awaitBanner();
  }

  /** Waits for the banner of the CLI started; returns the test's deadline. */
  private long awaitBanner() throws Exception {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    while (!log().contains("Listening on")) {
      assertThat(cli.isAlive()).as("the CLI runs: %s", log()).isTrue();
      assertThat(System.nanoTime() - deadline).as("the banner: %s", log()).isNegative();
      Thread.onSpinWait();
    }
    return deadline;
  }

  /**
   * Sends a hangup and waits for the line that answers it, logged after everything the CLI
   * logs while it starts (the CLI's lines are written in order, a batch at a time).
   */
  private void hangUpAndAwaitItsLine(long deadline) throws Exception {
    signal("HUP");
    while (!log().contains("sighup_ignored")) {
      assertThat(cli.isAlive()).as("the CLI still runs: %s", log()).isTrue();
      assertThat(System.nanoTime() - deadline).as("the hangup to be logged: %s", log()).isNegative();
      Thread.onSpinWait();
    }
  }

  private void signal(String name) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(cli.pid())).start();
    assertThat(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0).as("kill -" + name).isTrue();
  }

  private static boolean accepts(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 100);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private String log() throws IOException {
    Path file = dir.resolve("cli.log");
    return Files.exists(file) ? Files.readString(file) : "";
  }
}
