package dev.ferry.proxy.testkit;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPInputStream;
import java.util.zip.Inflater;
import java.util.zip.InflaterInputStream;
import java.util.zip.ZipException;

/** Undoes gzip and deflate Content-Encodings for assertions, bounded and tolerant of truncation. */
final class ContentDecoder {
  static final int MAX_DECODED = 64 * 1024 * 1024;

  private ContentDecoder() {}

  static byte[] gunzip(byte[] raw) {
    try {
      return drain(new GZIPInputStream(new ByteArrayInputStream(raw)));
    } catch (IOException e) {
      return raw.clone();
    }
  }

  /**
   * RFC 9110 §8.4.1.2 says "deflate" is zlib-wrapped, but some servers send raw deflate; try
   * zlib first, then raw.
   */
  static byte[] inflate(byte[] raw) {
    byte[] zlib = inflate(raw, false);
    if (zlib != null) {
      return zlib;
    }
    byte[] plain = inflate(raw, true);
    return plain != null ? plain : raw.clone();
  }

  private static byte[] inflate(byte[] raw, boolean nowrap) {
    Inflater inflater = new Inflater(nowrap);
    try {
      return drain(new InflaterInputStream(new ByteArrayInputStream(raw), inflater));
    } catch (ZipException e) {
      return null; // Not this flavour of deflate.
    } catch (IOException e) {
      return raw.clone();
    } finally {
      inflater.end();
    }
  }

  /** Reads up to the limit; a truncated stream yields what decoded before the cut. */
  private static byte[] drain(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buffer = new byte[8192];
    try (in) {
      int n;
      while (out.size() < MAX_DECODED
          && (n = in.read(buffer, 0, Math.min(buffer.length, MAX_DECODED - out.size()))) != -1) {
        out.write(buffer, 0, n);
      }
    } catch (EOFException e) {
      // A body cut at the capture cap: keep what was decoded.
    }
    return out.toByteArray();
  }
}
