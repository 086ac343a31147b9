package dev.ferry.proxy.engine.cache;

import dev.ferry.proxy.Headers;
import dev.ferry.proxy.engine.http1.Tokens;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** The directives of the Cache-Control fields of one message (RFC 9111 §5.2). */
final class CacheControl {
  /** 2^31: what RFC 9111 §1.2.2 has a cache take for a delta-seconds it cannot represent. */
  static final long DELTA_SECONDS_MAX = 2147483648L;
  /** The directives that keep a response from being stored or reused as it is. */
  private static final Set<String> PROTECTIVE = Set.of("private", "no-store", "no-cache");

  /**
   * The directives whose argument lists fields: every occurrence counts (§4.2.1, "the most
   * restrictive directive should be honored"), where the first of any other wins. An origin's
   * two middlewares sending {@code private="Set-Cookie"} and then {@code private} had the second
   * ignored and the response shared (probe k24).
   */
  private static final Set<String> QUALIFIABLE = Set.of("private", "no-cache");

  /** A message without Cache-Control, as most requests are: nothing to parse or allocate. */
  private static final CacheControl NONE = new CacheControl(Map.of());
  /**
   * The directives of the field values seen, up to {@link #KNOWN_MAX} values of at most
   * {@link #KNOWN_VALUE_CHARS} characters (a hostile sender of new values fills it once, and
   * parses its own from then on): the storage rules read one message's field several times
   * (to store, to freshen, to judge its freshness), and an origin sends few distinct ones.
   */
  private static final ConcurrentHashMap<String, CacheControl> KNOWN = new ConcurrentHashMap<>();
  private static final int KNOWN_MAX = 1024;
  private static final int KNOWN_VALUE_CHARS = 160;

  private final Map<String, String> directives;

  private CacheControl(Map<String, String> directives) {
    this.directives = directives;
  }

  static CacheControl of(Headers headers) {
    String only = null;
    int count = 0;
    for (int i = 0; i < headers.size(); i++) {
      if (headers.name(i).equalsIgnoreCase("Cache-Control")) {
        only = headers.value(i);
        count++;
      }
    }
    if (count == 0) {
      return NONE;
    }
    if (count > 1 || only.length() > KNOWN_VALUE_CHARS) {
      return parse(headers.all("Cache-Control"));
    }
    CacheControl known = KNOWN.get(only);
    if (known == null) {
      known = parse(List.of(only));
      if (KNOWN.size() < KNOWN_MAX) {
        KNOWN.putIfAbsent(only, known);
      }
    }
    return known;
  }

  private static CacheControl parse(List<String> fields) {
    Map<String, String> directives = new HashMap<>();
    for (String value : fields) {
      for (String part : FieldLists.members(value, true)) {
        String directive = part.trim();
        if (directive.isEmpty()) {
          continue;
        }
        // No whitespace around '=' (§5.2: token [ "=" ( token / quoted-string ) ]): "max-age =100"
        // names no known directive and "max-age= 100" has a malformed argument, so neither
        // makes a response fresh (§4.2.1).
        int equals = directive.indexOf('=');
        String name = (equals < 0 ? directive : directive.substring(0, equals)).toLowerCase(Locale.ROOT);
        String argument = equals < 0 ? "" : unquote(directive.substring(equals + 1));
        if (QUALIFIABLE.contains(name)) {
          // A field list whose quote never closes (private="Authorization) names no field: the
          // directive counts unqualified, the stricter reading (probe v24: the page was shared).
          boolean malformed = argument.startsWith("\"");
          directives.merge(name, malformed ? "" : argument, CacheControl::mostRestrictive);
        } else {
          directives.putIfAbsent(name, argument);
        }
        if (!Tokens.isToken(name)) {
          String meant = name.replaceAll("[^a-z-]", "");
          if (PROTECTIVE.contains(meant)) {
            // An unknown directive is ignored (§5.2.3), but "private;" or "\"no-store\"" says
            // what its sender meant: a shared cache errs towards not sharing, as nginx does.
            directives.merge(meant, "", CacheControl::mostRestrictive);
          }
        }
      }
    }
    return new CacheControl(directives);
  }

  boolean has(String name) {
    return directives.containsKey(name);
  }

  /**
   * Returns the delta-seconds argument of {@code name}, -1 when absent, or 0 when malformed: an
   * invalid max-age must not make a response look fresh (RFC 9111 §4.2.1).
   */
  long seconds(String name) {
    String argument = directives.get(name);
    if (argument == null) {
      return -1;
    }
    if (argument.isEmpty() || !digits(argument)) {
      return 0;
    }
    return deltaSeconds(argument);
  }

  private static boolean digits(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true;
  }

  /**
   * The value of a delta-seconds (digits only), capped at 2^31 as RFC 9111 §1.2.2 asks of values
   * too large to represent. Leading zeros count for nothing: {@code 000000000001} is 1 second.
   */
  static long deltaSeconds(String digits) {
    int start = 0;
    while (start < digits.length() - 1 && digits.charAt(start) == '0') {
      start++;
    }
    return digits.length() - start > 10 ? DELTA_SECONDS_MAX
        : Math.min(Long.parseLong(digits, start, digits.length(), 10), DELTA_SECONDS_MAX);
  }

  /**
   * True when a stale response must not be served without revalidating it, whatever permits it
   * otherwise (max-stale, stale-if-error, stale-while-revalidate): must-revalidate,
   * proxy-revalidate, s-maxage (which implies proxy-revalidate, RFC 9111 §5.2.2.10) or an
   * unqualified no-cache (§4.2.4).
   */
  boolean forbidsStale() {
    return has("must-revalidate") || has("proxy-revalidate") || has("s-maxage") || hasUnqualified("no-cache");
  }

  /**
   * True for a directive present without field names: {@code no-cache} but not
   * {@code no-cache="Set-Cookie"} (RFC 9111 §5.2.2.4, §5.2.2.7).
   */
  boolean hasUnqualified(String name) {
    String argument = directives.get(name);
    return argument != null && argument.isBlank();
  }

  /** The field names a qualified {@code no-cache} or {@code private} lists, lower case. */
  java.util.List<String> fieldNames(String name) {
    String argument = directives.get(name);
    java.util.List<String> names = new java.util.ArrayList<>();
    if (argument != null) {
      for (String field : argument.split(",")) {
        if (!field.isBlank()) {
          names.add(field.trim().toLowerCase(Locale.ROOT));
        }
      }
    }
    return names;
  }

  /** The argument of a directive given without one is empty: {@code max-stale} alone. */
  String argument(String name) {
    return directives.get(name);
  }

  /** Unqualified (empty) if either is; otherwise the field names of both. */
  private static String mostRestrictive(String one, String other) {
    return one.isBlank() || other.isBlank() ? "" : one + "," + other;
  }

  private static String unquote(String value) {
    if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
      return value.substring(1, value.length() - 1);
    }
    return value;
  }
}
