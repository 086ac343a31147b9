package dev.ferry.proxy.engine.upstream;

import java.net.IDN;
import java.text.Normalizer;
import java.util.Locale;

/**
 * International names in the ASCII form clients send: UTS #46 nontransitional processing, as
 * browsers, curl (libidn2) and WHATWG URLs use, where {@code ß} and final sigma {@code ς} are
 * kept and encoded ({@code straße} is {@code xn--strae-oqa}). The JDK's {@link IDN} implements
 * IDNA2003, which maps them away ({@code strasse}), so a rule naming {@code straße} would miss the
 * name clients actually ask for. The JDK still validates every name and does the other mappings
 * (case, full-width forms, ideographic full stops).
 */
public final class Idna {
  private static final int BASE = 36;
  private static final int T_MIN = 1;
  private static final int T_MAX = 26;

  private Idna() {}

  /**
   * The ASCII form of {@code name}, lower case.
   *
   * @throws IllegalArgumentException if it is not a valid international name
   */
  public static String toAscii(String name) {
    String lower = name.toLowerCase(Locale.ROOT);
    String ascii = IDN.toASCII(lower).toLowerCase(Locale.ROOT);
    if (lower.indexOf('ß') < 0 && lower.indexOf('ς') < 0) {
      return ascii;
    }
    String mapped = Normalizer.normalize(lower, Normalizer.Form.NFKC);
    StringBuilder out = new StringBuilder(ascii.length());
    for (String label : mapped.split("[.\u3002\uff0e\uff61]", -1)) {
      if (out.length() > 0) {
        out.append('.');
      }
      out.append(label.chars().allMatch(c -> c < 0x80) ? label : "xn--" + punycode(label));
    }
    return out.toString();
  }

  /** RFC 3492 §6.3, for one label of at most 63 characters (no overflow possible). */
  static String punycode(String label) {
    int[] points = label.codePoints().toArray();
    StringBuilder out = new StringBuilder();
    for (int c : points) {
      if (c < 0x80) {
        out.append((char) c);
      }
    }
    int basic = out.length();
    int handled = basic;
    if (basic > 0) {
      out.append('-');
    }
    int n = 0x80;
    long delta = 0;
    int bias = 72;
    while (handled < points.length) {
      int next = Integer.MAX_VALUE;
      for (int c : points) {
        if (c >= n && c < next) {
          next = c;
        }
      }
      delta += (long) (next - n) * (handled + 1);
      n = next;
      for (int c : points) {
        if (c < n) {
          delta++;
        } else if (c == n) {
          long q = delta;
          for (int k = BASE; ; k += BASE) {
            int t = k <= bias ? T_MIN : Math.min(k - bias, T_MAX);
            if (q < t) {
              break;
            }
            out.append(digit((int) (t + (q - t) % (BASE - t))));
            q = (q - t) / (BASE - t);
          }
          out.append(digit((int) q));
          bias = adapt(delta, handled + 1, handled == basic);
          delta = 0;
          handled++;
        }
      }
      delta++;
      n++;
    }
    return out.toString();
  }

  private static int adapt(long delta, int points, boolean first) {
    delta = first ? delta / 700 : delta / 2;
    delta += delta / points;
    int k = 0;
    while (delta > ((BASE - T_MIN) * T_MAX) / 2) {
      delta /= BASE - T_MIN;
      k += BASE;
    }
    return (int) (k + (BASE - T_MIN + 1) * delta / (delta + 38));
  }

  private static char digit(int d) {
    return (char) (d < 26 ? 'a' + d : '0' + d - 26);
  }
}
