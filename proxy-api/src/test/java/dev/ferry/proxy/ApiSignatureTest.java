package dev.ferry.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Guards the public API: every public signature is listed in the checked-in {@code api.txt},
 * so each API change shows up as a diff in review (as OkHttp's {@code api/*.api} files do).
 * Run with {@code -Dferry.updateApi=true} to rewrite the file after an intended change.
 */
class ApiSignatureTest {

  @Test
  void publicApiMatchesCheckedInDump() throws Exception {
    Path classes = Path.of(ProxyServer.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    Path apiFile = classes.getParent().getParent().resolve("api.txt");
    String actual = String.join("\n", dump(classes)) + "\n";
    if (Boolean.getBoolean("ferry.updateApi")) {
      Files.writeString(apiFile, actual, StandardCharsets.UTF_8);
    }
    String expected = Files.exists(apiFile) ? Files.readString(apiFile, StandardCharsets.UTF_8) : "";
    assertThat(actual)
        .withFailMessage(() -> "public API changed; review the difference and, if intended, run "
            + "./mvnw -pl proxy-api test -Dtest=ApiSignatureTest -Dferry.updateApi=true\n"
            + difference(expected, actual))
        .isEqualTo(expected);
  }

  private static List<String> dump(Path classes) throws IOException, ClassNotFoundException,
      URISyntaxException {
    TreeSet<String> lines = new TreeSet<>();
    List<Path> files;
    try (Stream<Path> walk = Files.walk(classes.resolve("dev/ferry/proxy"))) {
      files = walk.filter(p -> p.toString().endsWith(".class")).collect(Collectors.toList());
    }
    for (Path file : files) {
      String name = classes.relativize(file).toString().replace('/', '.').replaceAll("\\.class$", "");
      Class<?> type = Class.forName(name, false, ApiSignatureTest.class.getClassLoader());
      if (!isVisible(type)) {
        continue;
      }
      String owner = type.getName();
      int modifiers = type.getModifiers() & ~Modifier.STATIC & ~Modifier.INTERFACE
          & ~(type.isInterface() ? Modifier.ABSTRACT : 0);
      lines.add(owner + ": " + Modifier.toString(modifiers) + " "
          + kind(type));
      for (Constructor<?> constructor : type.getDeclaredConstructors()) {
        if (isApi(constructor.getModifiers())) {
          lines.add(owner + ": " + constructor.toGenericString());
        }
      }
      for (Method method : type.getDeclaredMethods()) {
        if (isApi(method.getModifiers()) && !method.isSynthetic()) {
          lines.add(owner + ": " + method.toGenericString());
        }
      }
      for (Field field : type.getDeclaredFields()) {
        if (isApi(field.getModifiers()) && !field.isSynthetic()) {
          lines.add(owner + ": " + field.toGenericString());
        }
      }
    }
    return new ArrayList<>(lines);
  }

  private static boolean isVisible(Class<?> type) {
    for (Class<?> c = type; c != null; c = c.getEnclosingClass()) {
      if (!Modifier.isPublic(c.getModifiers()) || c.isAnonymousClass() || c.isLocalClass()) {
        return false;
      }
    }
    return true;
  }

  private static boolean isApi(int modifiers) {
    return Modifier.isPublic(modifiers) || Modifier.isProtected(modifiers);
  }

  private static String kind(Class<?> type) {
    if (type.isAnnotation()) {
      return "@interface";
    }
    if (type.isInterface()) {
      return "interface";
    }
    return type.isEnum() ? "enum" : "class";
  }

  private static String difference(String expected, String actual) {
    List<String> before = List.of(expected.split("\n"));
    List<String> after = List.of(actual.split("\n"));
    StringBuilder diff = new StringBuilder();
    before.stream().filter(line -> !after.contains(line)).forEach(line -> diff.append("- ").append(line).append('\n'));
    after.stream().filter(line -> !before.contains(line)).forEach(line -> diff.append("+ ").append(line).append('\n'));
    return diff.toString();
  }
}
