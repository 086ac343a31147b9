/**
 * Ferry's testkit: put a proxy between the code under test and the services it calls, then see,
 * assert on, save and replay that traffic.
 *
 * <h2>Start a proxy</h2>
 * Declaratively with {@link dev.ferry.proxy.testkit.FerryTest} (a {@link
 * dev.ferry.proxy.testkit.RecordingProxy} is injected into test methods), or programmatically:
 * <pre>{@code
 * @RegisterExtension
 * static FerryProxyExtension proxy = FerryProxyExtension.forward();          // or .reverse(uri)
 * }</pre>
 * Outside JUnit: {@code try (RecordingProxy proxy = RecordingProxy.forward().start()) { ... }}.
 * The proxy binds 127.0.0.1 on an ephemeral port and forwards bodies byte for byte: they are
 * not decoded or re-encoded on the way through. Heads are a proxy's: it adds {@code traceparent},
 * {@code X-Request-Id} and {@code Via} to requests (and forwarding fields in reverse mode), and
 * {@code Via}, {@code X-Request-Id} and a missing {@code Date} to responses. Recorded requests
 * are what the client sent, with the proxy's {@code X-Request-Id} and {@code traceparent}, before
 * the proxy drops hop-by-hop fields and adds {@code Via} (see
 * {@link dev.ferry.proxy.testkit.RecordedRequest}).
 * Each test sees only its own exchanges, also when
 * tests run concurrently (see {@link dev.ferry.proxy.testkit.ProxyLifecycle}).
 *
 * <h2>Memory bounds</h2>
 * A recording keeps at most {@code maxBodyBytes} of each body (1 MiB), at most
 * {@code maxRecordingBytes} of bodies in all (64 MiB, reserved before allocating) and at most
 * {@code maxExchanges} exchanges (100,000). Past them it drops the oldest exchanges or truncates
 * bodies, and counts it ({@code dropped()}, {@code truncatedBodies()}); it never exhausts the
 * heap. While exchanges are dropped, the assertions a dropped one could decide otherwise
 * ({@code hasNoExchange}, {@code allExchangesMatch}, {@code hasExchangeCount}) fail, naming the
 * bound to raise; {@code failOnUnexpectedTraffic} judges each exchange as it is recorded, so
 * dropping never hides one.
 *
 * <h2>Wire the client</h2>
 * <ul>
 *   <li>{@code java.net.http}: {@code proxy.httpClientBuilder()}, or
 *       {@code proxy.configure(HttpClient.newBuilder())} on a builder you already have.</li>
 *   <li>{@code HttpURLConnection}: {@code url.openConnection(proxy.proxy())}.</li>
 *   <li>OkHttp: {@code new OkHttpClient.Builder().proxy(proxy.proxy())} (or
 *       {@code .proxySelector(proxy.proxySelector())}).</li>
 *   <li>Apache HttpClient 5: {@code HttpClients.custom().setRoutePlanner(new
 *       SystemDefaultRoutePlanner(proxy.proxySelector()))}.</li>
 *   <li>Code that reads the JVM's proxy system properties:
 *       {@code try (SystemProxyProperties p = proxy.systemProperties()) { ... }} sets
 *       {@code http(s).proxyHost/Port} and restores them on close. They are JVM-global: don't
 *       run such tests in parallel.</li>
 *   <li>HTTPS, recorded whole: build the proxy with {@code interceptHttps()} (or
 *       {@code @FerryTest(interceptHttps = true)}); {@code httpClientBuilder()} then trusts its
 *       CA, and other clients take {@code proxy.sslContext()} (OkHttp:
 *       {@code sslSocketFactory(proxy.sslContext().getSocketFactory(), proxy.trustManager())};
 *       Apache HttpClient 5: {@code ClientTlsStrategyBuilder.create().setSslContext(...)}) or
 *       {@code proxy.caCertificatePem()} (curl's {@code --cacert}).</li>
 *   <li>A reverse proxy needs no client setting: send requests to {@code proxy.baseUri()}.
 *       {@code RecordingProxy.inFrontOf(mockWebServer)} or {@code reverse(() -> uri)} put it in
 *       front of a server started later.</li>
 * </ul>
 *
 * <h2>Assert</h2>
 * <pre>{@code
 * FerryAssertions.assertThat(proxy.recording()).eventually()     // waits up to 5 s, never polls
 *     .hasExchange(e -> e.method("POST").path("/orders"))
 *     .hasNoExchangeTo("tracking.example");
 * }</pre>
 * One {@link dev.ferry.proxy.testkit.ExchangeMatcher} vocabulary ({@code e -> e.method("POST")
 * .path("/orders")}) selects exchanges everywhere: recordings, assertions, waiting, faults and
 * unexpected-traffic checks. Recorded responses are what the client got: Ferry adds
 * {@code Via: 1.1 ferry} to the answers it forwards, a missing {@code Date} and the
 * {@code Content-Length} of a body of known length also to those it makes itself (a 502, a replay
 * miss, a replayed answer, which carry no {@code Via}), and drops hop-by-hop fields.
 *
 * <h2>Save, replay, break</h2>
 * {@code recording().writeHar(path)} streams HAR 1.2 that browser HAR viewers open;
 * {@link dev.ferry.proxy.testkit.Recording#fromHar(java.nio.file.Path)} reads it back with every
 * body's bytes intact (gzip, br, binary, trailers, the proxy's own answers, CONNECT).
 * {@code RecordingProxy.forward().replay(har)} answers from a file only;
 * {@code recordIfMissing(har)} forwards what the file lacks and saves it on close, leaving out
 * the answers the proxy made itself (a down origin), so a suite runs offline after one recording
 * run. Replay matches method and URL in forward mode, method and {@code /path?query} in reverse
 * mode (where the proxy's own port, in every recorded URL, changes from run to run). {@link dev.ferry.proxy.testkit.Fault} adds latency, limits bandwidth, replaces statuses
 * and cuts connections for the requests a matcher selects.
 *
 * <p>The testkit is built on Ferry's public API only ({@code Filter}, {@code ExchangeListener}).
 *
 * <p>Null policy: no parameter in this package accepts {@code null} and no method returns
 * {@code null}; a value that may be absent is an {@link java.util.Optional}.
 */
package dev.ferry.proxy.testkit;
