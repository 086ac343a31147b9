package dev.ferry.proxy.engine.http1;

/** RFC 9110 token rules. */
public final class Tokens {
  private static final boolean[] TCHAR = new boolean[128];

  static {
    for (char c = '0'; c <= '9'; c++) {
      TCHAR[c] = true;
    }
    for (char c = 'a'; c <= 'z'; c++) {
      TCHAR[c] = true;
      TCHAR[c - 32] = true;
    }
    for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
      TCHAR[c] = true;
    }
  }

  private Tokens() {}

  /** RFC 9110 §5.6.2 token: one or more tchar. */
  public static boolean isToken(String text) {
    for (int i = 0; i < text.length(); i++) {
      if (!isTokenChar(text.charAt(i))) {
        return false;
      }
    }
    return !text.isEmpty();
  }

  /** RFC 9110 §5.6.2 tchar. */
  public static boolean isTokenChar(char c) {
    return c < 128 && TCHAR[c];
  }
}
