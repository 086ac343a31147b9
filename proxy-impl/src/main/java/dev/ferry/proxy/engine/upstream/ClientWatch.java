package dev.ferry.proxy.engine.upstream;

import dev.ferry.proxy.engine.io.ConnectionInput;
import java.io.IOException;

/**
 * Looks for a client that leaves while its request waits for the upstream's first answer, so
 * that the exchange is abandoned (its thread and upstream connection freed) instead of held until
 * the upstream timeout. Costs nothing to an answer that comes within a second: only a wait past
 * that is watched, off the waiting thread.
 *
 * <p>Used by one exchange at a time: {@link #arm} before the wait, {@link #disarm} after it
 * however it ended, and before anything else touches the client's connection.
 */
public interface ClientWatch {
  /**
   * Starts watching over a wait for {@code upstream}'s answer. False, and nothing armed, if that
   * input's reads cannot be watched (see {@link ConnectionInput#onLongWait}).
   */
  boolean arm(ConnectionInput upstream);

  /**
   * Ends the watch, waiting briefly for a look at the client in progress to finish; true if the
   * client was found gone, in which case {@code upstream}'s input was ended
   * ({@link ConnectionInput#abandon}) and the exchange is to be abandoned.
   */
  boolean disarm() throws IOException;
}
