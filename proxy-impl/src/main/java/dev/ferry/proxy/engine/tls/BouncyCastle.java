package dev.ferry.proxy.engine.tls;

/**
 * Checks that BouncyCastle, an optional dependency of the engine, is on the class path before
 * any class that builds certificates is touched; without the check the first use would fail
 * with a bare {@code NoClassDefFoundError} in the middle of a handshake.
 */
public final class BouncyCastle {
  /** The artifact to add, named in the error. */
  public static final String ARTIFACT = "org.bouncycastle:bcpkix-jdk18on";

  private static final String[] NEEDED = {
    "org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder", // bcpkix
    "org.bouncycastle.asn1.x509.Extension", // bcprov / bcutil, which bcpkix brings
  };

  private BouncyCastle() {}

  /**
   * Returns normally if certificates can be built.
   *
   * @throws IllegalStateException naming {@link #ARTIFACT} if BouncyCastle is missing
   */
  public static void require() {
    require(BouncyCastle.class.getClassLoader());
  }

  static void require(ClassLoader loader) {
    for (String name : NEEDED) {
      try {
        Class.forName(name, false, loader);
      } catch (ClassNotFoundException | LinkageError e) {
        throw new IllegalStateException("HTTPS interception builds certificates with BouncyCastle, "
            + "which is not on the class path (" + name + " is missing): add " + ARTIFACT
            + " to your dependencies; dev.ferry:proxy-impl declares it optional", e);
      }
    }
  }
}
