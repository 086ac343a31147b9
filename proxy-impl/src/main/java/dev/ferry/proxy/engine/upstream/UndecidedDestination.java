package dev.ferry.proxy.engine.upstream;

/**
 * Marks an exchange (attribute key {@code UndecidedDestination.class}) whose access verdict
 * depends on the addresses its host resolves to. The registered {@link DestinationCheck} decides
 * where the engine connects; a forward proxy's cache hit connects nowhere, so before serving one
 * for a marked exchange the engine resolves the host and runs the check all the same
 * ({@link Forwarder#vet}).
 */
public enum UndecidedDestination {
  /** The only value: the attribute's presence is the mark. */
  MARK
}
