package dev.ferry.proxy.engine.cache;

import dev.ferry.proxy.CacheEntry;
import dev.ferry.proxy.Headers;
import dev.ferry.proxy.engine.http1.Tokens;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Vary variants (RFC 9111 §4.1): which request fields a response varies on, and the key that
 * says whether a later request selects it. Values are compared after normalisation, which
 * §4.1 allows ("by adding or removing whitespace ..., combining multiple header field lines,
 * or normalizing both values in a way that is known to have identical semantics"): list fields
 * of the Accept family are compared without the case and whitespace their grammar ignores
 * (parameter values kept as they came), {@code Accept-Encoding} and {@code Accept-Charset} as
 * sets of members, {@code Accept} and {@code Accept-Language} in the order of their q-values
 * and, among equal ones, as listed; any other field as sent, each line trimmed.
 */
final class Variants {
  private Variants() {}

  /** Starts a partition's line in a key: a field name has no space, so no Vary line can. */
  private static final String PARTITION = "partition ";

  /**
   * The field names {@code Vary} lists, lower case, in order; includes {@code *} if listed, and
   * in place of a member that is no field name ({@code X-User Accept-Language} without its
   * comma, {@code "X-User"}): taken as one name no request carries, such a member would let
   * every request select a response meant for one user, so it is taken as varying on
   * everything, as {@code *} is. So are the fields a reverse proxy writes for each client
   * ({@code X-Forwarded-For}, {@code Forwarded}, RFC 9440's {@code Client-Cert} and
   * {@code Client-Cert-Chain}): the origin varied on the client's address or certificate,
   * which the client's own request does not hold, and every client selected the first one's
   * answer (probes k22, k25).
   */
  static List<String> names(Headers response) {
    List<String> names = new ArrayList<>();
    for (String value : response.all("Vary")) {
      for (String name : value.split(",")) {
        String trimmed = name.trim().toLowerCase(Locale.ROOT);
        if (!trimmed.isEmpty()) {
          names.add(Tokens.isToken(trimmed) && !PER_CLIENT.contains(trimmed) ? trimmed : "*");
        }
      }
    }
    return names;
  }

  /**
   * The fields normalised by their list grammar; not every name that starts with "accept"
   * ({@code Accept-Version: 1.0.0-RC} selected the {@code 1.0.0-rc} variant, probe v24).
   */
  private static final Set<String> ACCEPT_FAMILY = Set.of("accept", "accept-encoding", "accept-charset",
      "accept-language");

  /** Fields whose value the proxy sets from the client's address; see {@link #names}. */
  private static final Set<String> PER_CLIENT = Set.of("x-forwarded-for", "forwarded", "client-cert",
      "client-cert-chain");


  /** §4.1: a {@code *} member anywhere in {@code Vary} never matches a later request. */
  static boolean varyStar(Headers response) {
    return names(response).contains("*");
  }

  /**
   * The variant key of {@code request} for a response with these headers, in {@code partition}
   * (see {@code HttpCache.handle}): a partition's entries never match another's requests.
   */
  static String key(String partition, Headers response, Headers request) {
    return key(partition, names(response), request);
  }

  private static String key(String partition, List<String> names, Headers request) {
    StringBuilder key = new StringBuilder();
    if (!partition.isEmpty()) {
      key.append(PARTITION).append(partition).append('\n');
    }
    for (String name : names) {
      // Field values never hold a line feed, so it separates them unambiguously. An absent field
      // has no colon: it matches only another absence, never an empty value (§4.1).
      List<String> lines = request.all(name);
      key.append(name);
      if (!lines.isEmpty()) {
        key.append(':').append(normalise(name, lines));
      }
      key.append('\n');
    }
    return key.toString();
  }

  /** True if {@code request}, in {@code partition}, selects {@code stored}. */
  static boolean matches(CacheEntry stored, String partition, Headers request) {
    if (!stored.headers().contains("Vary")) {
      // Most responses vary on nothing: their key is the partition's alone, compared in place
      // rather than built again for every hit.
      return isPartitionOnly(stored.variantKey(), partition);
    }
    List<String> names = names(stored.headers());
    return !names.contains("*") && key(partition, names, request).equals(stored.variantKey());
  }

  /** True if {@code key} is what {@link #key} makes for {@code partition} and no Vary field. */
  private static boolean isPartitionOnly(String key, String partition) {
    if (partition.isEmpty()) {
      return key.isEmpty();
    }
    return key.length() == PARTITION.length() + partition.length() + 1 && key.startsWith(PARTITION)
        && key.startsWith(partition, PARTITION.length()) && key.charAt(key.length() - 1) == '\n';
  }

  /** A list member's q-value (1 without one, 0 for one that is not a number). */
  private static double quality(String member) {
    int q = member.indexOf(";q=");
    if (q < 0) {
      return 1;
    }
    int end = member.indexOf(';', q + 3);
    try {
      return Double.parseDouble(member.substring(q + 3, end < 0 ? member.length() : end));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  static String normalise(String name, List<String> lines) {
    if (!ACCEPT_FAMILY.contains(name)) {
      // A field the cache knows nothing of is compared as sent, each line trimmed (RFC 9110
      // §5.5): its spaces, commas and case may all mean something to the origin (probe k24).
      List<String> trimmed = new ArrayList<>(lines.size());
      lines.forEach(line -> trimmed.add(line.strip()));
      return String.join(", ", trimmed);
    }
    List<String> members = new ArrayList<>();
    for (String line : lines) {
      for (String member : FieldLists.members(line)) {
        String normalised = acceptMember(member);
        if (!normalised.isEmpty()) {
          members.add(normalised);
        }
      }
    }
    if (name.equals("accept-encoding") || name.equals("accept-charset")) {
      // Their variants are the same content, differently encoded: order is not significant
      // (RFC 9111 §4.1).
      Collections.sort(members);
    } else {
      // A language or media type listed first is preferred among equal q-values (RFC 4647
      // §2.3; Spring, Django and Java's LanguageRange break ties by order): only the q-values
      // order them, so "fr, en" and "en, fr" stay two variants, "en, fr;q=0.5" and
      // "fr;q=0.5, en" one.
      members.sort(Comparator.comparingDouble(Variants::quality).reversed());
    }
    return String.join(",", members);
  }

  /**
   * One member of an Accept-family field, normalised where its grammar says case and spaces
   * mean nothing: the token (media range, coding, language, charset) and parameter names lower
   * case, no spaces around {@code ;} and {@code =}, runs of spaces made one. A parameter's value
   * is kept as it came, quoted or not: a media type's parameter values may be case-sensitive
   * (RFC 9110 §8.3.1; a {@code profile} is a URI), and a quoted-string's spaces are its own
   * (probe k24: both selected another client's variant).
   */
  private static String acceptMember(String member) {
    StringBuilder out = new StringBuilder(member.length());
    boolean quoted = false;
    boolean inValue = false;
    boolean space = false;
    for (int i = 0; i < member.length(); i++) {
      char c = member.charAt(i);
      if (quoted) {
        out.append(c);
        if (c == '\\' && i + 1 < member.length()) {
          out.append(member.charAt(++i));
        } else if (c == '"') {
          quoted = false;
        }
        continue;
      }
      if (c == ' ' || c == '\t') {
        space = true;
        continue;
      }
      boolean separator = c == ';' || c == '=';
      if (space && !separator && out.length() > 0 && !endsWithSeparator(out)) {
        out.append(' ');
      }
      space = false;
      quoted = c == '"';
      inValue = c == '=' || (inValue && c != ';');
      out.append(inValue || c < 'A' || c > 'Z' ? c : (char) (c + ('a' - 'A')));
    }
    return out.toString();
  }

  private static boolean endsWithSeparator(StringBuilder out) {
    char last = out.charAt(out.length() - 1);
    return last == ';' || last == '=';
  }
}
