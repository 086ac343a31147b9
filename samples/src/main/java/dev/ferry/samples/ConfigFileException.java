package dev.ferry.samples;

import java.nio.file.Path;

/** A config file that cannot be used, with the line at fault (0 when none applies). */
final class ConfigFileException extends IllegalArgumentException {
  private final transient Path file;
  private final int line;
  private final String detail;

  ConfigFileException(Path file, int line, String detail) {
    super(file + (line > 0 ? " line " + line : "") + ": " + detail);
    this.file = file;
    this.line = line;
    this.detail = detail;
  }

  /** What is wrong, without the file and line. */
  String detail() {
    return detail;
  }

  /** The file. */
  Path file() {
    return file;
  }

  /** The 1-based line at fault, or 0. */
  int line() {
    return line;
  }
}
