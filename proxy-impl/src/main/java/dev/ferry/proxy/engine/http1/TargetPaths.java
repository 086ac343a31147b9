package dev.ferry.proxy.engine.http1;

/**
 * Normalises the path of an origin-form request-target before a gateway matches routes on it
 * and forwards it, so that a path cannot name one route to the proxy and another to the backend
 * that resolves it (as nginx normalises before {@code location} matching, and Envoy with
 * {@code normalize_path} and {@code merge_slashes}). The query is left as it came.
 *
 * <ul>
 *   <li>Percent-encoded unreserved characters are decoded ({@code %2e} is {@code .},
 *       {@code %73} is {@code s}) and the other escapes' hex digits upper-cased (RFC 3986
 *       §6.2.2.1, §6.2.2.2).
 *   <li>Runs of slashes become one, and dot-segments are removed (§5.2.4).
 *   <li>A path that climbs above the root ({@code /..}) is refused with 400, and so is one that
 *       a backend could split or resolve differently: an escaped slash or backslash
 *       ({@code %2F}, {@code %5C}: Tomcat and Spring's firewall refuse them too), a raw
 *       backslash, or a dot-segment with parameters ({@code ..;}, which Tomcat and Jetty take
 *       for {@code ..}).
 * </ul>
 *
 * <p>A path with none of {@code %}, {@code \}, {@code ;}, {@code //} or {@code /.} is returned
 * as it is, without copying.
 */
public final class TargetPaths {
  private TargetPaths() {}

  /**
   * The normalised form of {@code target} ({@code /path?query}).
   *
   * @throws HttpFailureException MALFORMED_REQUEST for a path that climbs above the root or hides
   *     a dot-segment behind an encoded separator
   */
  public static String normalise(String target) throws HttpFailureException {
    int query = target.indexOf('?');
    int end = query < 0 ? target.length() : query;
    if (!needsWork(target, end)) {
      return target;
    }
    String path = mergeSlashes(decodeUnreserved(target, end));
    StringBuilder out = new StringBuilder(path.length());
    int i = 0;
    while (i < path.length()) {
      int next = path.indexOf('/', i + 1);
      String segment = path.substring(i + 1, next < 0 ? path.length() : next);
      boolean last = next < 0;
      if (segment.equals(".")) {
        if (last) {
          out.append('/');
        }
      } else if (segment.equals("..")) {
        int cut = out.lastIndexOf("/");
        if (cut < 0) {
          throw new HttpFailureException(ProxyFailure.MALFORMED_REQUEST, "path climbs above the root");
        }
        out.setLength(cut);
        if (last) {
          out.append('/');
        }
      } else {
        refuseAmbiguous(segment);
        out.append('/').append(segment);
      }
      i = last ? path.length() : next;
    }
    if (out.length() == 0) {
      out.append('/');
    }
    return query < 0 ? out.toString() : out.append(target, query, target.length()).toString();
  }

  /**
   * {@code target}'s path as a servlet container reads it, the parameters of each segment
   * removed and the empty segments that leaves merged ({@code /admin;x/s} and
   * {@code /;x/admin/s} are {@code /admin/s}); the query as it is. A target without {@code ;} in
   * its path is returned as it is.
   */
  public static String withoutSegmentParameters(String target) {
    int query = target.indexOf('?');
    int end = query < 0 ? target.length() : query;
    int semicolon = target.indexOf(';');
    if (semicolon < 0 || semicolon > end) {
      return target;
    }
    StringBuilder path = new StringBuilder(end);
    boolean inParameters = false;
    for (int i = 0; i < end; i++) {
      char c = target.charAt(i);
      inParameters = c == ';' || (inParameters && c != '/');
      if (!inParameters) {
        path.append(c);
      }
    }
    return mergeSlashes(path.toString()) + target.substring(end);
  }

  private static boolean needsWork(String target, int end) {
    for (int i = 0; i < end; i++) {
      char c = target.charAt(i);
      if (c == '%' || c == '\\' || c == ';'
          || ((c == '/' || c == '.') && i > 0 && target.charAt(i - 1) == '/')) {
        return true;
      }
    }
    return false;
  }

  private static String decodeUnreserved(String target, int end) throws HttpFailureException {
    StringBuilder out = new StringBuilder(end);
    for (int i = 0; i < end; i++) {
      char c = target.charAt(i);
      if (c != '%') {
        out.append(c);
        continue;
      }
      int high = i + 2 < end ? HeadScan.hexValue(target.charAt(i + 1)) : -1;
      int low = high < 0 ? -1 : HeadScan.hexValue(target.charAt(i + 2));
      if (low < 0) {
        throw new HttpFailureException(ProxyFailure.MALFORMED_REQUEST, "invalid percent-encoding in path");
      }
      char decoded = (char) (high * 16 + low);
      if (isUnreserved(decoded)) {
        out.append(decoded);
      } else {
        out.append('%').append(Character.toUpperCase(target.charAt(i + 1)))
            .append(Character.toUpperCase(target.charAt(i + 2)));
      }
      i += 2;
    }
    return out.toString();
  }

  private static String mergeSlashes(String path) {
    if (!path.contains("//")) {
      return path;
    }
    StringBuilder out = new StringBuilder(path.length());
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      if (c != '/' || out.length() == 0 || out.charAt(out.length() - 1) != '/') {
        out.append(c);
      }
    }
    return out.toString();
  }

  /**
   * Refuses a segment a backend could read as more than one, or as a dot-segment the proxy did
   * not see: one holding an escaped slash or backslash, or a raw backslash (a backend that
   * decodes or converts it finds another path), and {@code ..;x} or {@code .;x} (path parameters
   * are dropped by servlet containers, which then find a dot-segment).
   */
  private static void refuseAmbiguous(String segment) throws HttpFailureException {
    if (segment.contains("%2F") || segment.contains("%5C") || segment.indexOf('\\') >= 0) {
      throw new HttpFailureException(ProxyFailure.MALFORMED_REQUEST, "escaped slash or backslash in path");
    }
    int parameters = segment.indexOf(';');
    if (parameters >= 0) {
      String bare = segment.substring(0, parameters);
      if (bare.equals(".") || bare.equals("..")) {
        throw new HttpFailureException(ProxyFailure.MALFORMED_REQUEST, "dot-segment with parameters in path");
      }
    }
  }

  private static boolean isUnreserved(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
        || c == '-' || c == '.' || c == '_' || c == '~';
  }
}
