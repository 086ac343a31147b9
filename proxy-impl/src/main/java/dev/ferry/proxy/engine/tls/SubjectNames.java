package dev.ferry.proxy.engine.tls;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import java.util.regex.Pattern;

/** Host names and IP literals as certificates name them (RFC 6125 subject alternative names). */
final class SubjectNames {
  private static final int SAN_DNS = 2;
  private static final int SAN_IP = 7;
  private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

  private SubjectNames() {}

  /** Lower case, without IPv6 brackets or a trailing dot: the form certificates and caches use. */
  static String normalise(String host) {
    String name = host.toLowerCase(Locale.ROOT);
    if (name.startsWith("[") && name.endsWith("]")) {
      name = name.substring(1, name.length() - 1);
    }
    return name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
  }

  /**
   * The SNI to send to {@code host} (RFC 6066 §3): its name, normalised; none for an IP literal,
   * nor for a name SNI cannot carry ({@code web_1}, not a letter-digit-hyphen name: the JDK
   * refuses it, and the refusal escaped as an unanswered request and a leaked connection, probe
   * v14).
   */
  static List<SNIServerName> serverNames(String host) {
    String name = normalise(host);
    if (isIpLiteral(name)) {
      return List.of();
    }
    try {
      return List.of(new SNIHostName(name));
    } catch (IllegalArgumentException e) {
      return List.of();
    }
  }

  /** True for an IPv4 or IPv6 literal; never resolves a name. */
  static boolean isIpLiteral(String host) {
    return IPV4.matcher(host).matches() || host.indexOf(':') >= 0;
  }

  /**
   * The address of an IP literal. Safe: {@code InetAddress.getByName} does no lookup for a
   * literal, and {@link #isIpLiteral} has been checked.
   */
  static InetAddress address(String ipLiteral) {
    try {
      return InetAddress.getByName(ipLiteral);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("not an IP literal: " + ipLiteral, e);
    }
  }

  /** True if {@code certificate} has a SAN for {@code host} (DNS with RFC 6125 wildcards, or IP). */
  static boolean matches(X509Certificate certificate, String host) {
    return matches(certificate, host, false);
  }

  /**
   * {@link #matches}, for an origin's certificate: a wildcard must leave two labels
   * ({@code *.example.com}, not {@code *.com} or {@code *.internal}), as curl, OpenSSL and
   * browsers require. The JDK applies its public-suffix rule only to chains ending at its own
   * CAs, so under a configured CA interception showed such an origin clean (probe v31).
   */
  static boolean matchesOrigin(X509Certificate certificate, String host) {
    return matches(certificate, host, true);
  }

  private static boolean matches(X509Certificate certificate, String host, boolean twoLabelWildcards) {
    String name = normalise(host);
    boolean ip = isIpLiteral(name);
    for (List<?> san : alternativeNames(certificate)) {
      int type = (Integer) san.get(0);
      String value = String.valueOf(san.get(1));
      if (ip && type == SAN_IP && address(value).equals(address(name))) {
        return true;
      }
      String pattern = normalise(value);
      if (!ip && type == SAN_DNS && dnsMatches(pattern, name)
          && (!twoLabelWildcards || !pattern.startsWith("*.") || pattern.indexOf('.', 2) > 0)) {
        return true;
      }
    }
    return false;
  }

  /** The DNS names (wildcards as written) and IP literals of {@code certificate}'s SAN. */
  static List<String> names(X509Certificate certificate) {
    List<String> names = new ArrayList<>();
    for (List<?> san : alternativeNames(certificate)) {
      int type = (Integer) san.get(0);
      if (type == SAN_DNS || type == SAN_IP) {
        names.add(String.valueOf(san.get(1)));
      }
    }
    return names;
  }

  /** RFC 6125 §6.4.3: a wildcard stands for exactly one whole left-most label. */
  private static boolean dnsMatches(String pattern, String name) {
    if (!pattern.startsWith("*.")) {
      return pattern.equals(name);
    }
    int dot = name.indexOf('.');
    return dot > 0 && name.substring(dot).equals(pattern.substring(1));
  }

  private static Collection<List<?>> alternativeNames(X509Certificate certificate) {
    try {
      Collection<List<?>> names = certificate.getSubjectAlternativeNames();
      return names == null ? List.of() : names;
    } catch (CertificateParsingException e) {
      return List.of();
    }
  }
}
