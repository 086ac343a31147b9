package dev.ferry.proxy;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * HTTPS interception for a forward proxy: which CONNECT destinations the proxy decrypts, and the
 * certificate authority it signs their certificates with. Immutable: each option returns a new
 * value.
 *
 * <p>On a CONNECT to an intercepted host the proxy answers 200, completes the TLS handshake with
 * a certificate it issues for the CONNECT's host (whatever name the client's SNI gives: the
 * session stays pinned to that host), and runs
 * each request inside through filters, cache and listeners like a plain one, sending it on to
 * the origin over verified TLS (see {@link UpstreamTls}). Other hosts, and bytes inside an
 * intercepted CONNECT that are not TLS, are tunnelled unchanged; the client's first bytes tell
 * which, so a protocol in which the server speaks first (SMTP, IMAP, FTP) cannot pass an
 * intercepted CONNECT: keep such hosts out of {@link #hosts(String...)}. The tunnel's first bytes, the
 * handshake and the first request inside have the {@code requestHeaderTimeout} to arrive,
 * counted from the 200; a client quiet meanwhile waits without a thread (see
 * {@link Concurrency}). Clients must trust the {@link CertificateAuthority}.
 *
 * <pre>{@code
 * CertificateAuthority ca = CertificateAuthority.generate();
 * ProxyServer.builder()
 *     .interceptTls(InterceptTls.of(ca).hosts("api.example.com", "*.test.example"))
 *     .build();
 * }</pre>
 *
 * <p>Interception needs {@code org.bouncycastle:bcpkix-jdk18on} on the class path to issue
 * certificates; building a proxy with interception fails without it, naming the artifact.
 */
public final class InterceptTls {
  private static final Predicate<String> ANY = host -> true;

  private final CertificateAuthority authority;
  private final List<String> globs;
  private final Predicate<String> predicate;

  private InterceptTls(CertificateAuthority authority, List<String> globs, Predicate<String> predicate) {
    this.authority = authority;
    this.globs = List.copyOf(globs);
    this.predicate = predicate;
  }

  /** Intercepts every CONNECT host, with certificates signed by {@code authority}. */
  public static InterceptTls of(CertificateAuthority authority) {
    Objects.requireNonNull(authority, "authority");
    return new InterceptTls(authority, List.of(), ANY);
  }

  /**
   * Intercepts only hosts matching one of these names or globs (added to those given before). A
   * glob's {@code *} matches any run of characters, so {@code *.example.com} matches every
   * subdomain of example.com (not example.com itself); names ignore case. IP literals are
   * matched as written ({@code 127.0.0.1}, {@code ::1}).
   *
   * @throws IllegalArgumentException if a value is not a host name, a glob of one or an IP
   *     literal: empty, an empty label ({@code a..b}, {@code *.}), or a character other than
   *     ASCII letters, digits, {@code - _ . * :} (international names in their {@code xn--} form)
   */
  public InterceptTls hosts(String... hosts) {
    List<String> all = new ArrayList<>(globs);
    for (String host : hosts) {
      Objects.requireNonNull(host, "host");
      String glob = normalise(host);
      if (!isHostGlob(glob) || glob.equals("*") && !host.equals("*")) {
        throw new IllegalArgumentException(
            "intercepted host must be a name or a glob like *.example.com (was \"" + host + "\")");
      }
      all.add(glob);
    }
    return new InterceptTls(authority, all, predicate);
  }

  private static boolean isHostGlob(String glob) {
    if (glob.isEmpty() || glob.startsWith(".") || glob.endsWith(".") || glob.contains("..")) {
      return false;
    }
    return glob.chars().allMatch(c -> c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
        || c == '-' || c == '_' || c == '.' || c == '*' || c == ':');
  }

  /**
   * Intercepts only hosts for which {@code hostPredicate} is true (and which match {@link #hosts},
   * when given). The predicate receives the lower-case CONNECT host without brackets or trailing
   * dot; it must be thread-safe and fast, since it runs on every CONNECT.
   */
  public InterceptTls matching(Predicate<String> hostPredicate) {
    Objects.requireNonNull(hostPredicate, "hostPredicate");
    return new InterceptTls(authority, globs, hostPredicate);
  }

  /** The CA that signs the certificates shown to clients. */
  public CertificateAuthority authority() {
    return authority;
  }

  /** The host names and globs intercepted; empty means every host (subject to {@link #matching}). */
  public List<String> hosts() {
    return globs;
  }

  /** True if a CONNECT to {@code host} is intercepted. */
  public boolean intercepts(String host) {
    String name = normalise(Objects.requireNonNull(host, "host"));
    if (!globs.isEmpty() && globs.stream().noneMatch(glob -> matches(glob, name))) {
      return false;
    }
    return predicate.test(name);
  }

  private static String normalise(String host) {
    String name = host.toLowerCase(Locale.ROOT);
    if (name.startsWith("[") && name.endsWith("]")) {
      name = name.substring(1, name.length() - 1);
    }
    return name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
  }

  /** Glob match where {@code *} stands for any run of characters, including none. */
  private static boolean matches(String glob, String name) {
    int star = glob.indexOf('*');
    if (star < 0) {
      return glob.equals(name);
    }
    String head = glob.substring(0, star);
    if (!name.startsWith(head)) {
      return false;
    }
    String rest = glob.substring(star + 1);
    for (int i = head.length(); i <= name.length(); i++) {
      if (matches(rest, name.substring(i))) {
        return true;
      }
    }
    return false;
  }

  @Override
  public boolean equals(Object other) {
    if (!(other instanceof InterceptTls)) {
      return false;
    }
    InterceptTls that = (InterceptTls) other;
    return authority.equals(that.authority) && globs.equals(that.globs) && predicate == that.predicate;
  }

  @Override
  public int hashCode() {
    return Objects.hash(authority, globs);
  }

  @Override
  public String toString() {
    return "InterceptTls[" + (globs.isEmpty() ? "all hosts" : String.join(", ", globs))
        + (predicate == ANY ? "" : " matching a predicate") + "; "
        + authority.certificate().getSubjectX500Principal().getName() + "]";
  }
}
