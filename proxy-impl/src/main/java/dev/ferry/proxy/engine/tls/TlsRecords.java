package dev.ferry.proxy.engine.tls;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Recognises the first bytes of a TLS connection, and writes the one record sent without a
 * handshake (RFC 8446 §5.1 and §6, RFC 5246 §6.2).
 */
public final class TlsRecords {
  private static final int HANDSHAKE = 0x16;
  private static final int CLIENT_HELLO = 0x01;
  /** A record's plaintext is at most 2^14 bytes; a ClientHello is never empty. */
  private static final int MAX_RECORD = 1 << 14;

  /**
   * A fatal {@code internal_error} alert in a plaintext record (level 2, description 80), which
   * a server may send before any handshake: what a client refused because the proxy is full is
   * sent instead of a plaintext 503 it could not read. RFC 8446 §6.2 defines internal_error as a
   * failure "unrelated to the peer or the correctness of this protocol".
   */
  private static final byte[] INTERNAL_ERROR_ALERT = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 80};

  private static final String PLAIN_HTTP_BODY = "This port speaks HTTPS: send the request with https://\n";
  private static final byte[] PLAIN_HTTP_ANSWER = ("HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; "
      + "charset=utf-8\r\nContent-Length: " + PLAIN_HTTP_BODY.length() + "\r\nConnection: close\r\n\r\n"
      + PLAIN_HTTP_BODY).getBytes(StandardCharsets.US_ASCII);

  private TlsRecords() {}

  /** The bytes of a fatal {@code internal_error} alert record, for a client never handshaken. */
  public static byte[] internalErrorAlert() {
    return INTERNAL_ERROR_ALERT.clone();
  }

  /**
   * True if the bytes from {@code start} in {@code received} are a plain HTTP request line rather
   * than a TLS record, whose first byte is a content type (20 to 24): an upper-case method, as
   * {@code GET} or {@code POST} (at least one letter there, up to three looked at).
   */
  static boolean looksLikePlainHttp(ByteBuffer received, int start) {
    for (int i = 0; i < 3; i++) {
      if (start + i >= received.limit()) {
        return i > 0;
      }
      byte b = received.get(start + i);
      if (b < 'A' || b > 'Z') {
        return false;
      }
    }
    return true;
  }

  /**
   * True if {@code received} holds, from its position, at least one whole record: its 5-byte
   * header and the length the header gives (RFC 8446 §5.1).
   */
  static boolean holdsWholeRecord(ByteBuffer received) {
    int start = received.position();
    if (received.remaining() < 5) {
      return false;
    }
    int length = (received.get(start + 3) & 0xff) << 8 | (received.get(start + 4) & 0xff);
    return received.remaining() >= 5 + length;
  }

  /**
   * A plain HTTP 400 for a plain request sent to a TLS port, as nginx answers one: the client
   * (or a person with curl) reads why, where a TLS alert would only say the handshake failed.
   */
  static byte[] plainHttpAnswer() {
    return PLAIN_HTTP_ANSWER.clone();
  }

  static long plainHttpBodyBytes() {
    return PLAIN_HTTP_BODY.length();
  }

  /**
   * True if {@code firstBytes[0..length)} can be the start of a TLS ClientHello: a handshake
   * record (0x16), record version 3.x with x from 0 (SSL 3.0) to 4, a plausible record length,
   * and, when the sixth byte is there, handshake type client_hello. Needs at least 3 bytes;
   * fewer give false, so read until 3 bytes (or the end of the stream) before asking. Bytes that
   * are not a ClientHello (plain HTTP, SSH, ...) are relayed as a plain tunnel.
   */
  public static boolean looksLikeClientHello(byte[] firstBytes, int length) {
    if (length < 3 || length > firstBytes.length) {
      return false;
    }
    if ((firstBytes[0] & 0xff) != HANDSHAKE || firstBytes[1] != 0x03 || (firstBytes[2] & 0xff) > 0x04) {
      return false;
    }
    if (length >= 5) {
      int recordLength = (firstBytes[3] & 0xff) << 8 | (firstBytes[4] & 0xff);
      if (recordLength == 0 || recordLength > MAX_RECORD) {
        return false;
      }
    }
    return length < 6 || firstBytes[5] == CLIENT_HELLO;
  }
}
