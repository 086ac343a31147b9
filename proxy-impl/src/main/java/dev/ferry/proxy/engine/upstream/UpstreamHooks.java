package dev.ferry.proxy.engine.upstream;

import dev.ferry.proxy.engine.http1.ResponseHead;
import dev.ferry.proxy.engine.tls.ClientCertFields;
import java.io.IOException;
import java.net.InetSocketAddress;

/** What the forwarder needs from the exchange it serves. */
public interface UpstreamHooks {

  /** The client's address, for balancing by client and {@code X-Forwarded-For}. */
  InetSocketAddress clientAddress();

  /** The client's address as forwarding headers carry it ({@link HostNames#addressText}). */
  default String clientAddressText() {
    return HostNames.addressText(clientAddress().getAddress());
  }

  /** Decides on the addresses a new or pooled connection goes to; throws to refuse. */
  DestinationCheck destinationCheck();

  /**
   * The forwarder sent the request again on a fresh connection because a reused one had gone
   * stale; a route's retry policy counts it as one of its retries.
   */
  default void staleConnectionRetried() {}

  /**
   * The authority the client asked for, before filters; null if unknown. In a reverse proxy a
   * request whose authority a filter changed ({@code Filters.rewriteHost}) keeps it as its
   * {@code Host}, instead of the endpoint's, and this goes in {@code X-Forwarded-Host}.
   */
  default String requestedAuthority() {
    return null;
  }

  /**
   * False when the client named no host (an HTTP/1.0 request without Host, or an empty Host) and
   * the request's authority stands in for one: then no {@code X-Forwarded-Host} or
   * {@code Forwarded} host, and a preserved Host is the endpoint's.
   */
  default boolean clientNamedHost() {
    return true;
  }

  /**
   * Whether the wait for the upstream's answer should go a second at a time, asking
   * {@link #clientGone} between waits; false for requests nobody may abandon (a cache fill
   * others may wait on), or where the timed waits cost more than they would free. Asked only
   * where there is no {@link #clientWatch}.
   */
  default boolean watchesClient() {
    return false;
  }

  /**
   * Whether the exchange may be abandoned when its client leaves; false for requests nobody may
   * abandon (a cache fill others may wait on).
   */
  default boolean abandonable() {
    return false;
  }

  /**
   * The watch for a client that leaves while the upstream is slow to answer (see
   * {@link ClientWatch}); null where there is none: for requests nobody may abandon, or a client
   * connection that cannot be watched, which {@link #watchesClient} may cover instead.
   */
  default ClientWatch clientWatch() {
    return null;
  }

  /** True if the client has gone (closed or reset its connection): the exchange is abandoned. */
  default boolean clientGone() {
    return false;
  }

  /** True if the client reached the proxy over TLS, for {@code X-Forwarded-Proto}. */
  default boolean clientUsesTls() {
    return false;
  }

  /** The client certificate a TLS listener verified, for {@code Client-Cert} (RFC 9440). */
  default ClientCertFields clientCertFields() {
    return ClientCertFields.NONE;
  }

  /** A connection to the upstream is ready. */
  void upstreamConnected(UpstreamConnection connection, boolean reused);

  /** Relays an informational (1xx) response to the client, if it speaks HTTP/1.1. */
  void interim(ResponseHead head) throws IOException;

  /** Holds the response body so the exchange can discard it if nobody reads it to the end. */
  void attach(UpstreamBody body);

  /** After a 101 or a CONNECT, the connection becomes the other end of a tunnel. */
  void tunnel(UpstreamConnection connection);
}
