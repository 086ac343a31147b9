package dev.ferry.proxy.engine.filter;

import dev.ferry.proxy.Filter;

/**
 * How a filter is named in a 500 and in the log: its own {@code toString()} when it has one,
 * else its class's simple name; a lambda, whose class name is generated and means nothing to a
 * reader, as its place in the chain and the class that wrote it.
 */
final class FilterNames {
  private FilterNames() {}

  /** The name of {@code filter}, the {@code index}th (from 0) of its chain. */
  static String describe(Filter filter, int index) {
    Class<?> type = filter.getClass();
    String className = type.getName();
    int lambda = className.indexOf("$$Lambda");
    if (lambda >= 0) {
      String declaring = className.substring(0, lambda);
      return "#" + (index + 1) + " (a lambda in " + declaring.substring(declaring.lastIndexOf('.') + 1) + ")";
    }
    String text = String.valueOf(filter);
    boolean objectToString = text.startsWith(className + "@");
    return objectToString ? (type.getSimpleName().isEmpty() ? className : type.getSimpleName()) : text;
  }
}
