package dev.ferry.samples;

import dev.ferry.proxy.CertificateAuthority;
import dev.ferry.proxy.InterceptTls;
import dev.ferry.proxy.ProxyServer;
import dev.ferry.proxy.ServerTls;
import dev.ferry.proxy.UpstreamTls;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The TLS flags: the listener's certificates ({@link ServerTls}), TLS to upstreams
 * ({@link UpstreamTls}) and HTTPS interception ({@link InterceptTls}). Files are checked as the
 * flags are read ({@link PemFiles}); the values are put together after all flags, since pairs
 * ({@code --tls-cert} with {@code --tls-key}...) may come in any order.
 *
 * <p>{@code --mitm} generates one CA per process: a config reload parses the flags again and
 * must find the same CA, or the running proxy would refuse the new configuration.
 */
final class TlsOptions {
  static final String USAGE = String.join("\n",
      "      --tls-cert FILE          serve TLS: PEM certificate chain, leaf first (with --tls-key;",
      "                               repeat the pair for more certificates, chosen by SNI, the",
      "                               first being the default); reloaded when the file changes",
      "      --tls-key FILE           PKCS#8 PEM private key of the --tls-cert of its rank (the",
      "                               first --tls-key with the first --tls-cert; in any order)",
      "      --tls-client-ca FILE     require client certificates issued by the PEM CA(s) in FILE",
      "      --tls-client-auth MODE   need (default with --tls-client-ca) | want: ask for a",
      "                               client certificate but serve clients without one",
      "      --upstream-ca FILE       trust https upstreams whose certificates chain to the",
      "                               PEM CA certificate(s) in FILE (default: system trust)",
      "      --upstream-client-cert FILE  PEM certificate shown to upstreams that require mutual",
      "                               TLS (with --upstream-client-key FILE, PKCS#8 PEM)",
      "      --upstream-insecure      accept any upstream certificate, unverified (tests only;",
      "                               warned about at every start)",
      "      --mitm                   intercept HTTPS through CONNECT with a CA generated at start,",
      "                               valid 30 days; needs --ca-out FILE, where its certificate",
      "                               (never its key) is written for clients to trust",
      "      --ca-out FILE            where --mitm writes the generated CA certificate (PEM)",
      "      --ca-key-out FILE        also write the generated CA's private key (mode 600), to",
      "                               reuse the CA later with --ca-cert and --ca-key",
      "      --ca-cert FILE --ca-key FILE  intercept HTTPS with this CA (PEM, PKCS#8 key)",
      "      --mitm-host GLOB         intercept only these hosts (*.example.com; repeatable;",
      "                               default all hosts); the others are tunnelled unread");

  /** Flags that take a value. */
  static final Set<String> FLAGS = Set.of("--tls-cert", "--tls-key", "--tls-client-ca", "--tls-client-auth",
      "--upstream-ca", "--upstream-client-cert", "--upstream-client-key", "--ca-out",
      "--ca-key-out", "--ca-cert", "--ca-key", "--mitm-host");
  /** Flags without a value. */
  static final Set<String> SWITCHES = Set.of("--upstream-insecure", "--mitm");

  private static final Set<String> REPEATABLE = Set.of("--tls-cert", "--tls-key", "--mitm-host",
      "--upstream-insecure", "--mitm");
  private static final AtomicReference<CertificateAuthority> GENERATED = new AtomicReference<>();

  private final Set<String> seen = new HashSet<>();
  private final List<Path> tlsCerts = new ArrayList<>();
  private final List<Path> tlsKeys = new ArrayList<>();
  private final List<String> mitmHosts = new ArrayList<>();
  /** Files {@link #writeGenerated} created or replaced, for {@link #removeWritten}. */
  private final List<Path> written = new ArrayList<>();
  /** What the files {@link #writeGenerated} replaced held before, to put back. */
  private final Map<Path, String> replaced = new HashMap<>();
  private Path tlsClientCa;
  private ServerTls.ClientAuth tlsClientAuth = ServerTls.ClientAuth.NEED;
  private Path upstreamCa;
  /** The config file's {@code upstreamCa}, or null. */
  private Path fileUpstreamCa;
  private Path upstreamClientCert;
  private Path upstreamClientKey;
  private boolean upstreamInsecure;
  private boolean mitm;
  private Path caOut;
  /** The CA {@code --mitm} generated, written by {@link #writeGenerated} once the proxy runs. */
  private CertificateAuthority generated;
  private Path caKeyOut;
  private Path caCert;
  private Path caKey;

  /** Applies a switch. */
  void add(String flag) {
    seen.add(flag);
    switch (flag) {
      case "--upstream-insecure" -> upstreamInsecure = true;
      case "--mitm" -> mitm = true;
      default -> throw new IllegalArgumentException("unknown option " + flag);
    }
  }

  /**
   * Applies a flag with its value, checking a file it names.
   *
   * @throws IllegalArgumentException naming the flag
   */
  void add(String flag, String value) {
    if (!seen.add(flag) && !REPEATABLE.contains(flag)) {
      throw new IllegalArgumentException(flag + " may be given only once");
    }
    switch (flag) {
      case "--tls-cert" -> tlsCerts.add(PemFiles.certificates(flag, value));
      case "--tls-key" -> tlsKeys.add(PemFiles.privateKey(flag, value));
      case "--tls-client-ca" -> tlsClientCa = PemFiles.certificates(flag, value);
      case "--tls-client-auth" -> tlsClientAuth = switch (value.toLowerCase(java.util.Locale.ROOT)) {
        case "need" -> ServerTls.ClientAuth.NEED;
        case "want" -> ServerTls.ClientAuth.WANT;
        default -> throw new IllegalArgumentException("--tls-client-auth must be need or want (was " + value + ")");
      };
      case "--upstream-ca" -> upstreamCa = PemFiles.trustAnchors(flag, value);
      case "--upstream-client-cert" -> upstreamClientCert = PemFiles.certificates(flag, value);
      case "--upstream-client-key" -> upstreamClientKey = PemFiles.privateKey(flag, value);
      case "--ca-out" -> caOut = Path.of(value);
      case "--ca-key-out" -> caKeyOut = Path.of(value);
      case "--ca-cert" -> caCert = PemFiles.certificates(flag, value);
      case "--ca-key" -> caKey = PemFiles.privateKey(flag, value);
      case "--mitm-host" -> mitmHosts.add(value);
      default -> throw new IllegalArgumentException("unknown option " + flag);
    }
  }

  /**
   * Sets the listener TLS, upstream TLS and interception the flags asked for. Call it once, after
   * every other flag (and the routes) are on the builder.
   *
   * @throws IllegalArgumentException naming the flags that do not go together
   */
  void applyTo(ProxyServer.Builder builder) {
    serverTls().ifPresent(builder::tls);
    upstreamTls().ifPresent(builder::upstreamTls);
    InterceptTls intercept = interceptTls();
    if (intercept != null) {
      builder.interceptTls(intercept);
    }
    checkCombination(builder);
    if (generated != null && caKeyOut != null) {
      // Refused now, not once the proxy runs: a key already there is never written over.
      PemFiles.checkWritable("--ca-key-out", caKeyOut, generated.privateKeyPem());
    }
    if (generated != null && caOut != null) {
      // Nor by the certificate: --ca-out naming the key file (a slip) lost a trusted CA's key.
      PemFiles.checkCertificateFile("--ca-out", caOut);
    }
  }

  /**
   * Writes the generated CA where {@code --ca-out} (and {@code --ca-key-out}) say; nothing
   * without {@code --mitm}. Run before the proxy starts, so that a client that finds the port
   * open finds the certificate too; {@link #removeWritten} undoes it if the proxy then cannot
   * start (a port in use), so that no key is left that a retry would refuse to write over.
   *
   * @throws IllegalArgumentException naming the flag if a file cannot be written
   */
  void writeGenerated() {
    if (generated != null) {
      try {
        write(generated);
      } catch (IllegalArgumentException e) {
        // The key written before a certificate that could not be: not left behind (probe v14).
        removeWritten();
        throw e;
      }
    }
  }

  /**
   * Undoes {@link #writeGenerated}: deletes the files it created, and puts back what those it
   * replaced held (a CA certificate clients already trust, from an earlier run).
   */
  void removeWritten() {
    for (Path file : written) {
      try {
        String before = replaced.get(file);
        if (before != null) {
          Files.writeString(file, before, StandardCharsets.US_ASCII);
        } else {
          Files.deleteIfExists(file);
        }
      } catch (IOException e) {
        System.err.println("ferry: could not restore " + file + ": " + PemFiles.why(e));
      }
    }
    written.clear();
    replaced.clear();
  }

  private Optional<ServerTls> serverTls() {
    if (tlsCerts.size() != tlsKeys.size()) {
      throw new IllegalArgumentException("--tls-cert and --tls-key go in pairs, a --tls-key for each "
          + "--tls-cert (got " + tlsCerts.size() + " --tls-cert and " + tlsKeys.size() + " --tls-key)");
    }
    if (seen.contains("--tls-client-auth") && tlsClientCa == null) {
      throw new IllegalArgumentException("--tls-client-auth needs --tls-client-ca, the CA(s) that "
          + "issue the client certificates");
    }
    if (tlsCerts.isEmpty()) {
      if (tlsClientCa != null) {
        throw new IllegalArgumentException("--tls-client-ca needs --tls-cert and --tls-key: client "
            + "certificates are asked for in the TLS handshake");
      }
      return Optional.empty();
    }
    for (int i = 0; i < tlsCerts.size(); i++) {
      PemFiles.checkPair("--tls-key", tlsCerts.get(i), tlsKeys.get(i));
    }
    ServerTls tls = ServerTls.pem(tlsCerts.get(0), tlsKeys.get(0));
    for (int i = 1; i < tlsCerts.size(); i++) {
      tls = tls.certificate(tlsCerts.get(i), tlsKeys.get(i));
    }
    return Optional.of(tlsClientCa == null ? tls
        : tls.clientAuth(tlsClientAuth, tlsClientCa));
  }

  /** The config file's {@code upstreamCa} (null: none), which the upstream TLS flags build on. */
  void fileUpstreamCa(Path ca) {
    this.fileUpstreamCa = ca;
  }

  /**
   * The upstream TLS the flags ask for, on the trust {@code --upstream-ca} names, else the config
   * file's {@code upstreamCa}, else the system's: a client certificate given by flag keeps the
   * file's CA (it was replaced by the system's trust store, which widened what is trusted).
   */
  private Optional<UpstreamTls> upstreamTls() {
    pair("--upstream-client-cert", upstreamClientCert, "--upstream-client-key", upstreamClientKey);
    if (upstreamClientCert != null) {
      PemFiles.checkPair("--upstream-client-key", upstreamClientCert, upstreamClientKey);
    }
    if (upstreamInsecure && upstreamCa != null) {
      throw new IllegalArgumentException("--upstream-insecure and --upstream-ca contradict each "
          + "other (trust everything, or trust this CA): keep one");
    }
    if (upstreamInsecure && fileUpstreamCa != null) {
      throw new IllegalArgumentException("--upstream-insecure and the config file's upstreamCa "
          + "contradict each other (trust everything, or trust this CA): keep one");
    }
    if (!upstreamInsecure && upstreamCa == null && upstreamClientCert == null) {
      return Optional.empty();
    }
    Path trust = upstreamCa != null ? upstreamCa : fileUpstreamCa;
    UpstreamTls tls = upstreamInsecure ? UpstreamTls.insecureTrustAll()
        : trust != null ? UpstreamTls.trusting(trust) : UpstreamTls.systemTrust();
    return Optional.of(upstreamClientCert == null ? tls
        : tls.clientCertificate(upstreamClientCert, upstreamClientKey));
  }

  /** The interception asked for, or null. */
  private InterceptTls interceptTls() {
    pair("--ca-cert", caCert, "--ca-key", caKey);
    if (!mitm && caCert == null) {
      for (String flag : List.of("--mitm-host", "--ca-out", "--ca-key-out")) {
        if (seen.contains(flag)) {
          throw new IllegalArgumentException(flag + " needs --mitm (or --ca-cert and --ca-key)");
        }
      }
      return null;
    }
    CertificateAuthority authority = caCert != null ? loaded() : generated();
    InterceptTls intercept = InterceptTls.of(authority);
    try {
      return mitmHosts.isEmpty() ? intercept : intercept.hosts(mitmHosts.toArray(new String[0]));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--mitm-host: " + e.getMessage(), e);
    }
  }

  private CertificateAuthority loaded() {
    if (mitm) {
      // The loaded CA was used and --mitm's generated one silently not (probe cli F6).
      throw new IllegalArgumentException("--mitm generates a CA and --ca-cert with --ca-key load one; "
          + "give --mitm (with --ca-out) or --ca-cert and --ca-key, not both");
    }
    if (caOut != null || caKeyOut != null) {
      throw new IllegalArgumentException((caOut != null ? "--ca-out" : "--ca-key-out")
          + " writes a generated CA; with --ca-cert and --ca-key the CA is in " + caCert
          + " and " + caKey + " already");
    }
    try {
      return CertificateAuthority.fromPem(caCert, caKey);
    } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
      throw new IllegalArgumentException("--ca-cert/--ca-key: " + e.getMessage(), e);
    }
  }

  /** The process's generated CA, to be written where {@code --ca-out} (and {@code --ca-key-out}) say. */
  private CertificateAuthority generated() {
    if (caOut == null) {
      throw new IllegalArgumentException("--mitm needs --ca-out FILE: clients must trust the "
          + "generated CA, whose certificate is written there");
    }
    if (caKeyOut != null && caOut.toAbsolutePath().normalize().equals(caKeyOut.toAbsolutePath().normalize())) {
      throw new IllegalArgumentException("--ca-out and --ca-key-out name the same file (" + caOut
          + "): the certificate would overwrite the key");
    }
    generated = GENERATED.updateAndGet(ca -> ca != null ? ca : CertificateAuthority.generate());
    return generated;
  }

  /** Writes the generated CA: its key first, which may refuse, then its certificate. */
  private void write(CertificateAuthority authority) {
    boolean wroteKey = caKeyOut != null
        && PemFiles.write("--ca-key-out", caKeyOut, authority.privateKeyPem(), true);
    if (wroteKey) {
      written.add(caKeyOut);
    }
    String before = PemFiles.readIfPresent("--ca-out", caOut);
    boolean wroteCertificate = PemFiles.write("--ca-out", caOut, authority.certificatePem(), false);
    if (wroteCertificate) {
      written.add(caOut);
      if (before != null) {
        replaced.put(caOut, before);
      }
    }
    if (wroteKey || wroteCertificate) {
      // Logging is set up after the flags are parsed: until then stderr is the CLI's channel.
      System.err.println("ferry: interception CA " + authority.certificate()
          .getSubjectX500Principal().getName() + " (sha256 " + authority.sha256Fingerprint()
          + ", valid until " + authority.certificate().getNotAfter().toInstant()
          + "): certificate written to " + caOut.toAbsolutePath()
          + (caKeyOut != null ? ", private key to " + caKeyOut.toAbsolutePath() : "")
          + "; clients must trust it");
    }
  }

  private static void pair(String firstFlag, Path first, String secondFlag, Path second) {
    if ((first == null) != (second == null)) {
      throw new IllegalArgumentException(firstFlag + " and " + secondFlag + " go together (got only "
          + (first != null ? firstFlag : secondFlag) + ")");
    }
  }

  /**
   * Reports the builder's refusals of TLS options as errors naming the flags: interception on a
   * reverse proxy, and upstream TLS set both by a flag and by the config file. Other refusals are
   * left to {@code build()}.
   */
  private void checkCombination(ProxyServer.Builder builder) {
    try {
      builder.buildConfig();
    } catch (IllegalStateException e) {
      String message = String.valueOf(e.getMessage());
      if (message.contains("interceptTls")) {
        throw new IllegalArgumentException((mitm ? "--mitm" : "--ca-cert") + " intercepts HTTPS "
            + "in a forward proxy; remove it, or the reverse proxy's upstreams (--upstream, --route, or the "
            + "config file's upstream and routes)", e);
      }
      if (message.contains("upstreamTls")) {
        throw new IllegalArgumentException("--upstream-ca, --upstream-client-cert and "
            + "--upstream-insecure cannot be combined with the config file's upstreamCa; keep one", e);
      }
    }
  }
}
