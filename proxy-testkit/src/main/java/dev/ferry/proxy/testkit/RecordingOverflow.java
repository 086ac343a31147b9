package dev.ferry.proxy.testkit;

/**
 * What a recording does when keeping another body would take it past its byte budget
 * ({@link RecordingProxy.Builder#maxRecordingBytes(long)}). Either way nothing is lost silently:
 * {@link Recording#dropped()} counts dropped exchanges, {@link Recording#truncatedBodies()}
 * counts bodies cut short, and each cut body says so ({@link RecordedBody#truncated()}).
 */
public enum RecordingOverflow {
  /**
   * Drops the oldest recorded exchanges until the new bytes fit (the default). A body that does
   * not fit even in an empty recording, because exchanges still in progress hold the rest, is
   * truncated.
   */
  DROP_OLDEST,

  /** Keeps every exchange and truncates the bodies that no longer fit. */
  TRUNCATE_BODIES
}
