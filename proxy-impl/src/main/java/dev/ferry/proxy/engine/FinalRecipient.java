package dev.ferry.proxy.engine;

import dev.ferry.proxy.Body;
import dev.ferry.proxy.Headers;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.Response;
import dev.ferry.proxy.engine.http1.NameSet;
import dev.ferry.proxy.engine.http1.RequestHead;
import java.nio.charset.StandardCharsets;

/**
 * The proxy's own answer to a TRACE or OPTIONS request whose {@code Max-Forwards} reached 0
 * (RFC 9110 §7.6.2), and to a forward proxy's {@code OPTIONS *}: OPTIONS says what the proxy
 * allows; TRACE reflects the request as the
 * client sent it (not with what filters added, such as an upstream's credentials) as
 * {@code message/http} (§9.3.8), without the fields that carry credentials, and without the
 * framing fields of a body it does not reflect (a TRACE has no content, §9.3.8; one sent anyway is
 * read and dropped, so a Content-Length left in made the reflection a truncated message).
 */
final class FinalRecipient {
  private static final NameSet NOT_REFLECTED = NameSet.of("authorization", "proxy-authorization",
      "cookie", "x-api-key", "content-length", "transfer-encoding");
  private static final String ALLOW = "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, TRACE";

  private FinalRecipient() {}

  /**
   * @param received the request head as the client sent it: its request-target as it came (an
   *     absolute-form one too) and its fields
   * @param forward whether the proxy is a forward proxy, which also allows CONNECT
   */
  static Response answer(Request request, RequestHead received, boolean forward) {
    if (request.method().equals("OPTIONS")) {
      return Response.builder().status(200).header("Allow", forward ? ALLOW + ", CONNECT" : ALLOW).build();
    }
    Headers headers = received.headers();
    StringBuilder message = new StringBuilder()
        .append(received.method()).append(' ').append(received.target()).append(' ')
        .append(received.version()).append("\r\n");
    for (int i = 0; i < headers.size(); i++) {
      if (!NOT_REFLECTED.contains(headers.name(i))) {
        message.append(headers.name(i)).append(": ").append(headers.value(i)).append("\r\n");
      }
    }
    message.append("\r\n");
    return Response.builder().status(200).header("Content-Type", "message/http")
        .body(Body.of(message.toString().getBytes(StandardCharsets.ISO_8859_1))).build();
  }
}
