package dev.ferry.proxy.testkit;

import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.Upstream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * A Ferry proxy that records every exchange, and can replay recordings and inject faults. It
 * binds 127.0.0.1 on an ephemeral port and, unlike a production forward proxy, tunnels CONNECT to
 * any port and reaches loopback destinations, since test origins are local and listen on
 * ephemeral ports. {@link FerryProxyExtension} manages one per test class or test; it also works
 * on its own:
 *
 * <pre>{@code
 * try (RecordingProxy proxy = RecordingProxy.forward().start()) {
 *   HttpClient client = proxy.httpClientBuilder().build();
 *   client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:8081/orders")).build(),
 *       HttpResponse.BodyHandlers.ofString());
 *   FerryAssertions.assertThat(proxy.recording()).hasExchange(e -> e.path("/orders"));
 * }
 * }</pre>
 */
public final class RecordingProxy implements AutoCloseable {
  private final ProxyServer server;
  private final Recording recording;
  private final FaultFilter faults;
  private final boolean forward;
  private final Path saveTo;
  private final List<RecordedExchange> loaded;

  private RecordingProxy(Builder b) {
    this.forward = b.upstream == null;
    this.recording = new Recording(b.maxExchanges);
    Recorder recorder = new Recorder(recording, b.maxBodyBytes);
    this.faults = new FaultFilter(recorder, b.faults);
    this.saveTo = b.recordIfMissing;
    this.loaded = b.recordIfMissing != null && Files.exists(b.recordIfMissing)
        ? Recording.fromHar(b.recordIfMissing).exchanges()
        : b.replay != null ? b.replay.exchanges() : null;
    // Test origins are local and listen on ephemeral ports: a testkit proxy (bound to loopback)
    // reaches loopback destinations and tunnels CONNECT to any port, unlike the engine's default.
    ProxyServer.Builder proxy = ProxyServer.builder().bindAddress("127.0.0.1").port(0)
        .allowAnyConnectPort().allowPrivateDestinations(true);
    if (b.upstream != null) {
      proxy.upstream(Upstream.of(b.upstream.toString()));
    }
    // The recorder is the outermost filter so it sees what the client sent and received; faults
    // come next so the recording shows their effect; replay answers last, after user filters.
    proxy.filter(recorder).filter(faults).listener(recorder);
    b.customizers.forEach(c -> c.accept(proxy));
    if (loaded != null) {
      proxy.filter(new ReplayFilter(recorder, loaded, b.matcher, saveTo != null, b.maxBodyBytes));
    }
    this.server = proxy.build();
  }

  /** Returns a builder for a forward proxy: clients use it as their HTTP proxy. */
  public static Builder forward() {
    return new Builder(null);
  }

  /**
   * Returns a builder for a reverse proxy in front of {@code upstream}: clients send ordinary
   * requests to {@link #baseUri()}.
   */
  public static Builder reverse(URI upstream) {
    return new Builder(Objects.requireNonNull(upstream, "upstream"));
  }

  private RecordingProxy start() {
    server.start();
    return this;
  }

  /** The recorded exchanges. */
  public Recording recording() {
    return recording;
  }

  /** The underlying proxy, for its port, stats and configuration. */
  public ProxyServer server() {
    return server;
  }

  /** The address the proxy listens on. */
  public InetSocketAddress address() {
    return server.address();
  }

  /** The port the proxy listens on. */
  public int port() {
    return server.port();
  }

  /** {@code http://127.0.0.1:<port>/}: where a reverse proxy's clients send requests. */
  public URI baseUri() {
    return URI.create("http://127.0.0.1:" + server.port() + "/");
  }

  /** True for a forward proxy, false for a reverse proxy. */
  public boolean isForward() {
    return forward;
  }

  /**
   * Injects a fault into every later exchange whose request matches, until
   * {@link #clearFaults()} (the extension clears them after each test). Rules add up: a request
   * that several select gets all their faults.
   */
  public RecordingProxy inject(Predicate<? super Request> when, Fault fault) {
    faults.add(new FaultFilter.Rule(Objects.requireNonNull(when, "when"),
        Objects.requireNonNull(fault, "fault")));
    return this;
  }

  /** Removes the faults added by {@link #inject}; those set on the builder stay. */
  public void clearFaults() {
    faults.clear();
  }

  /** A {@link ProxySelector} that sends every request through this proxy. */
  public ProxySelector proxySelector() {
    return ProxySelector.of(server.address());
  }

  /** A {@link Proxy} for this proxy, for {@code URL.openConnection(proxy)} or OkHttp. */
  public Proxy proxy() {
    return new Proxy(Proxy.Type.HTTP, server.address());
  }

  /**
   * A new {@code HttpClient} builder wired to this proxy: through {@link #proxySelector()} for a
   * forward proxy; unchanged for a reverse proxy (send requests to {@link #baseUri()}).
   */
  public HttpClient.Builder httpClientBuilder() {
    return configure(HttpClient.newBuilder());
  }

  /** Wires an existing {@code HttpClient} builder to this proxy, as {@link #httpClientBuilder()}. */
  public HttpClient.Builder configure(HttpClient.Builder builder) {
    return forward ? builder.proxy(proxySelector()) : builder;
  }

  /**
   * Points the JVM-wide proxy system properties at this proxy until the returned handle is
   * closed, which restores them. Prefer {@link #proxySelector()}: system properties affect every
   * thread, so tests that use them must not run in parallel with each other.
   */
  public SystemProxyProperties systemProperties() {
    return SystemProxyProperties.set(server.address());
  }

  /**
   * Stops the proxy, letting exchanges in progress finish for up to two seconds. In
   * record-if-missing mode it then saves the HAR file if new exchanges were recorded.
   *
   * @throws UncheckedIOException if the HAR file cannot be written
   */
  @Override
  public void close() {
    server.stop(Duration.ofSeconds(2));
    if (saveTo != null) {
      List<RecordedExchange> added = recording.exchanges(
          e -> !e.replayed() && !e.unmatched() && e.response().status() != 0);
      if (!added.isEmpty()) {
        List<RecordedExchange> all = new ArrayList<>(loaded == null ? List.of() : loaded);
        all.addAll(added);
        try {
          Recording.of(all).writeHar(saveTo);
        } catch (IOException e) {
          throw new UncheckedIOException("could not save HAR file " + saveTo, e);
        }
      }
    }
  }

  @Override
  public String toString() {
    return "RecordingProxy{" + (forward ? "forward" : "reverse") + ", port=" + server.port() + "}";
  }

  /**
   * Configures a {@link RecordingProxy}. Reusable: each {@link #start()} makes a new proxy with
   * its own recording. Not thread-safe.
   */
  public static final class Builder {
    private final URI upstream;
    private final List<Consumer<ProxyServer.Builder>> customizers = new ArrayList<>();
    private final List<FaultFilter.Rule> faults = new ArrayList<>();
    private int maxBodyBytes = 1024 * 1024;
    private int maxExchanges = 100_000;
    private Recording replay;
    private Path recordIfMissing;
    private ReplayMatcher matcher = ReplayMatcher.methodAndUrl();

    private Builder(URI upstream) {
      this.upstream = upstream;
    }

    /**
     * Customises the underlying {@link ProxyServer.Builder}: timeouts, limits, extra filters
     * (which run after the recorder), listeners. The port stays ephemeral unless you set it.
     */
    public Builder configure(Consumer<ProxyServer.Builder> customizer) {
      customizers.add(Objects.requireNonNull(customizer, "customizer"));
      return this;
    }

    /**
     * The most bytes kept of each request and response body; longer bodies are flagged
     * truncated. They still pass through whole. Default 1 MiB.
     *
     * @throws IllegalArgumentException if negative
     */
    public Builder maxBodyBytes(int maxBodyBytes) {
      if (maxBodyBytes < 0) {
        throw new IllegalArgumentException("maxBodyBytes must not be negative (was "
            + maxBodyBytes + ")");
      }
      this.maxBodyBytes = maxBodyBytes;
      return this;
    }

    /**
     * The most exchanges the recording holds; older ones are dropped. Default 100,000.
     *
     * @throws IllegalArgumentException if below 1
     */
    public Builder maxExchanges(int maxExchanges) {
      if (maxExchanges < 1) {
        throw new IllegalArgumentException("maxExchanges must be at least 1 (was "
            + maxExchanges + ")");
      }
      this.maxExchanges = maxExchanges;
      return this;
    }

    /**
     * Answers from this recording instead of the network. An unmatched request gets a 502 whose
     * body names the request and the nearest recorded ones. A body that was truncated when it
     * was recorded replays truncated: record for replay with a large enough
     * {@link #maxBodyBytes}.
     */
    public Builder replay(Recording recording) {
      this.replay = Objects.requireNonNull(recording, "recording");
      this.recordIfMissing = null;
      return this;
    }

    /** Answers from this HAR file instead of the network; see {@link #replay(Recording)}. */
    public Builder replay(Path har) {
      return replay(Recording.fromHar(har));
    }

    /**
     * Answers from this HAR file when it holds a match; forwards and records the other requests,
     * and on {@link RecordingProxy#close()} writes the file with the new exchanges added. The
     * file need not exist yet: the first run records everything, later runs work offline.
     */
    public Builder recordIfMissing(Path har) {
      this.recordIfMissing = Objects.requireNonNull(har, "har");
      this.replay = null;
      return this;
    }

    /** How replay matches requests; default {@link ReplayMatcher#methodAndUrl()}. */
    public Builder replayMatcher(ReplayMatcher matcher) {
      this.matcher = Objects.requireNonNull(matcher, "matcher");
      return this;
    }

    /** Injects a fault into every exchange whose request matches, for the proxy's lifetime. */
    public Builder fault(Predicate<? super Request> when, Fault fault) {
      faults.add(new FaultFilter.Rule(Objects.requireNonNull(when, "when"),
          Objects.requireNonNull(fault, "fault")));
      return this;
    }

    /**
     * Builds and starts a proxy on 127.0.0.1 and an ephemeral port.
     *
     * @throws UncheckedIOException if the record-if-missing or replay file cannot be read
     */
    public RecordingProxy start() {
      return new RecordingProxy(this).start();
    }
  }
}
