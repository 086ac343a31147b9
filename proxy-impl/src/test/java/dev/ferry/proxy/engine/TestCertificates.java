package dev.ferry.proxy.engine;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Certificates made at test time with the JDK's own {@code keytool}, so no key or
 * certificate is ever checked in and nothing beyond the JDK is needed.
 */
public final class TestCertificates {
  private static final char[] PASSWORD = "changeit".toCharArray();

  private static final List<String> EC_P256 = List.of("-keyalg", "EC", "-groupname", "secp256r1");
  private static final List<String> QUICK_JVM =
      List.of("-J-XX:TieredStopAtLevel=1", "-J-XX:+UseSerialGC", "-J-XX:-UsePerfData");
  private final KeyStore keyStore;

  private TestCertificates(KeyStore keyStore) {
    this.keyStore = keyStore;
  }

  /**
   * A leaf certificate for {@code dnsName} (and 127.0.0.1 when the name is localhost) with an EC
   * P-256 key, issued by a CA
   * made for it alone (clients trust the CA, as they would a real one: a directly trusted
   * self-signed certificate is an anchor whose dates nobody checks).
   *
   * @param startDate keytool's {@code -startdate} for the leaf, e.g. {@code -10d}, or null for now
   * @param validityDays how long the leaf is valid from its start date
   */
  public static TestCertificates issued(String dnsName, String startDate, int validityDays)
      throws Exception {
    return issued(dnsName, startDate, validityDays, hostSan(dnsName), EC_P256, null, EC_P256, null);
  }

  /**
   * A leaf for {@code dnsName} that browsers refuse although its chain and name verify: without
   * a subject alternative name ({@code san} false), with a key of {@code keyOptions} (keytool's,
   * e.g. {@code -keyalg RSA -keysize 1024}), or signed with {@code signatureAlgorithm}.
   */
  public static TestCertificates weak(String dnsName, boolean san, List<String> keyOptions,
      String signatureAlgorithm) throws Exception {
    return issued(dnsName, null, 2, san ? hostSan(dnsName) : null, keyOptions, signatureAlgorithm, EC_P256, null);
  }

  /** A sound leaf for {@code dnsName} issued by a CA with a key of {@code caKeyOptions} (keytool's). */
  public static TestCertificates issuedByWeakCa(String dnsName, List<String> caKeyOptions) throws Exception {
    return issued(dnsName, null, 2, hostSan(dnsName), EC_P256, null, caKeyOptions, null);
  }

  /**
   * A leaf whose subject's CN is {@code commonName} and whose SAN holds only the IP address
   * {@code ip}: the JDK's host check matches a name against the CN then, RFC 9525 does not.
   */
  public static TestCertificates issuedForAddressOnly(String commonName, String ip) throws Exception {
    return issued(commonName, null, 2, "ip:" + ip, EC_P256, null, EC_P256, null);
  }

  /** A sound leaf for {@code dnsName} whose extended key usage allows client authentication only. */
  public static TestCertificates issuedForClientsOnly(String dnsName) throws Exception {
    return issued(dnsName, null, 2, hostSan(dnsName), EC_P256, null, EC_P256, null, "clientAuth");
  }

  private static String hostSan(String dnsName) {
    return "dns:" + dnsName + (dnsName.equals("localhost") ? ",ip:127.0.0.1" : "");
  }

  /** A leaf for {@code dnsName} valid now, issued by a CA that expired days ago (served in its chain). */
  public static TestCertificates issuedByExpiredCa(String dnsName) throws Exception {
    return issued(dnsName, null, 2, hostSan(dnsName), EC_P256, null, EC_P256, "-10d");
  }

  /**
   * A self-signed certificate for {@code dnsName} alone (no address) with an EC P-256 key, alias
   * {@code server}: trusted directly ({@link #trustingContext()}), it is its own trust anchor.
   *
   * @param startDate keytool's {@code -startdate}, e.g. {@code -10d}, or null for now
   */
  public static TestCertificates selfSigned(String dnsName, String startDate, int validityDays) throws Exception {
    Path dir = Files.createTempDirectory("ferry-certs");
    Path server = dir.resolve("server.p12");
    try {
      List<String> command = new ArrayList<>(List.of("-genkeypair", "-alias", "server"));
      command.addAll(EC_P256);
      command.addAll(List.of("-dname", "CN=" + dnsName, "-ext", "SAN=dns:" + dnsName,
          "-validity", Integer.toString(validityDays), "-storetype", "PKCS12",
          "-keystore", server.toString(), "-storepass", new String(PASSWORD)));
      if (startDate != null) {
        command.addAll(List.of("-startdate", startDate));
      }
      keytool(command.toArray(new String[0]));
      KeyStore keyStore = KeyStore.getInstance("PKCS12");
      try (InputStream in = Files.newInputStream(server)) {
        keyStore.load(in, PASSWORD);
      }
      return new TestCertificates(keyStore);
    } finally {
      Files.deleteIfExists(server);
      Files.delete(dir);
    }
  }

  private static TestCertificates issued(String dnsName, String startDate, int validityDays, String san,
      List<String> keyOptions, String signatureAlgorithm, List<String> caKeyOptions, String caStartDate)
      throws Exception {
    return issued(dnsName, startDate, validityDays, san, keyOptions, signatureAlgorithm, caKeyOptions,
        caStartDate, null);
  }

  private static TestCertificates issued(String dnsName, String startDate, int validityDays, String san,
      List<String> keyOptions, String signatureAlgorithm, List<String> caKeyOptions, String caStartDate,
      String extendedKeyUsage) throws Exception {
    Path dir = Files.createTempDirectory("ferry-certs");
    try {
      Path ca = dir.resolve("ca.p12");
      Path server = dir.resolve("server.p12");
      String pass = new String(PASSWORD);
      List<String> authority = new ArrayList<>(List.of("-genkeypair", "-alias", "ca"));
      authority.addAll(caKeyOptions);
      authority.addAll(List.of("-dname", "CN=Ferry Test CA " + System.nanoTime(), "-ext", "bc:c",
          "-validity", "2", "-storetype", "PKCS12", "-keystore", ca.toString(), "-storepass", pass));
      if (caStartDate != null) {
        authority.addAll(List.of("-startdate", caStartDate));
      }
      keytool(authority.toArray(new String[0]));
      List<String> leaf = new ArrayList<>(List.of("-genkeypair", "-alias", "server"));
      leaf.addAll(keyOptions);
      leaf.addAll(List.of("-dname", "CN=" + dnsName, "-validity", "2", "-storetype", "PKCS12",
          "-keystore", server.toString(), "-storepass", pass));
      keytool(leaf.toArray(new String[0]));
      keytool("-certreq", "-alias", "server", "-keystore", server.toString(), "-storepass", pass,
          "-file", dir.resolve("server.csr").toString());
      List<String> sign = new ArrayList<>(List.of("-gencert", "-alias", "ca",
          "-keystore", ca.toString(), "-storepass", pass,
          "-infile", dir.resolve("server.csr").toString(),
          "-outfile", dir.resolve("server.cer").toString(), "-validity", Integer.toString(validityDays)));
      if (san != null) {
        sign.addAll(List.of("-ext", "SAN=" + san));
      }
      if (signatureAlgorithm != null) {
        sign.addAll(List.of("-sigalg", signatureAlgorithm));
      }
      if (extendedKeyUsage != null) {
        sign.addAll(List.of("-ext", "EKU=" + extendedKeyUsage));
      }
      if (startDate != null) {
        sign.addAll(List.of("-startdate", startDate));
      }
      keytool(sign.toArray(new String[0]));
      keytool("-exportcert", "-alias", "ca", "-keystore", ca.toString(), "-storepass", pass,
          "-file", dir.resolve("ca.cer").toString());
      keytool("-importcert", "-noprompt", "-alias", "ca", "-keystore", server.toString(),
          "-storepass", pass, "-file", dir.resolve("ca.cer").toString());
      keytool("-importcert", "-alias", "server", "-keystore", server.toString(),
          "-storepass", pass, "-file", dir.resolve("server.cer").toString());
      KeyStore keyStore = KeyStore.getInstance("PKCS12");
      try (InputStream in = Files.newInputStream(server)) {
        keyStore.load(in, PASSWORD);
      }
      return new TestCertificates(keyStore);
    } finally {
      try (var files = Files.list(dir)) {
        for (Path file : (Iterable<Path>) files::iterator) {
          Files.delete(file);
        }
      }
      Files.delete(dir);
    }
  }

  private static void keytool(String... arguments) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    // A short-lived JVM: C1 alone and the serial collector start it in 0.4 s instead of 0.65 s
    // (seven runs per certificate set, some forty sets in the suite).
    command.addAll(QUICK_JVM);
    command.addAll(List.of(arguments));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes());
    if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
      throw new IOException("keytool " + arguments[0] + " failed: " + output);
    }
  }

  /** A context that presents this certificate, for a test server. */
  public SSLContext serverContext() throws Exception {
    KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keys.init(keyStore, PASSWORD);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(keys.getKeyManagers(), null, null);
    return context;
  }

  /** The key store holding the leaf (alias {@code server}) and its CA, password {@code changeit}. */
  public KeyStore keyStore() {
    return keyStore;
  }

  public static char[] password() {
    return PASSWORD.clone();
  }

  /** A trust store holding only the issuing CA. */
  public KeyStore trustStore() throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    // An issued certificate's CA; a self-signed one is its own.
    String anchor = keyStore.containsAlias("ca") ? "ca" : "server";
    trust.setCertificateEntry(anchor, keyStore.getCertificate(anchor));
    return trust;
  }

  /** A context that trusts this certificate and nothing else, for a client. */
  public SSLContext trustingContext() throws Exception {
    KeyStore trust = trustStore();
    TrustManagerFactory trusts = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trusts.init(trust);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, trusts.getTrustManagers(), null);
    return context;
  }
}
