package dev.ferry.proxy.engine.balance;

import dev.ferry.proxy.engine.io.Guard;
import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;
import java.util.random.RandomGenerator;

/**
 * Random numbers for the pickers, safe to draw from any thread:
 * <ul>
 *   <li>{@link ThreadLocalRandom}: each draw asks {@code ThreadLocalRandom.current()} again,
 *       because the instance handed over was obtained on another thread, and a thread that
 *       never called {@code current()} itself has no seed of its own yet;</li>
 *   <li>other {@link Random}s ({@code SecureRandom}, a seeded {@code Random}) are thread-safe
 *       and used as they are;</li>
 *   <li>any other generator (a seeded {@code SplittableRandom} in tests) is drawn from under a
 *       {@link Guard}, which keeps a single-threaded test's sequence exactly reproducible.</li>
 * </ul>
 */
final class Draws {
  private final RandomGenerator random;
  private final Guard guard;

  private Draws(RandomGenerator random, Guard guard) {
    this.random = random;
    this.guard = guard;
  }

  static Draws of(RandomGenerator random) {
    if (random instanceof ThreadLocalRandom) {
      return new Draws(null, null);
    }
    return new Draws(random, random instanceof Random ? null : new Guard());
  }

  /** A uniform int in {@code [0, bound)}; bound is positive. */
  int nextInt(int bound) {
    if (random == null) {
      return ThreadLocalRandom.current().nextInt(bound);
    }
    return guard == null ? random.nextInt(bound) : guard.call(() -> random.nextInt(bound));
  }
}
