package dev.ferry.samples;

import dev.ferry.proxy.Concurrency;

/**
 * Turns {@code -c}, {@code -t}, {@code --queue} and {@code --max-threads} (or the config file's
 * {@code listener.concurrency}, {@code .threads}, {@code .queue} and {@code .maxThreads}) into
 * a {@link Concurrency}. A number the chosen model has no use for is refused, naming the option,
 * rather than ignored.
 */
final class ConcurrencyOptions {
  private ConcurrencyOptions() {}

  /** A number an option gave; {@code option} names it for errors, null where it was not given. */
  record Given(int value, String option) {
    boolean given() {
      return option != null;
    }
  }

  /**
   * The model {@code model} names ({@code modelOption} names the option that gave it, for
   * errors). On Java 17, {@code auto} is the bounded pool and takes the
   * pool's numbers: its own (200 threads growing to 1,000, a queue of 10,000) unless given; a
   * {@code -t} without {@code --max-threads} fixes its cap, as {@code -c pool} does.
   */
  static Concurrency of(String model, String modelOption, Given threads, Given queue, Given ceiling) {
    int java = Runtime.version().feature();
    boolean virtualAvailable = java >= 21;
    if (threads.given() && threads.value() < 1) {
      throw new IllegalArgumentException(threads.option() + " must be at least 1 (was " + threads.value() + ")");
    }
    if (queue.given() && queue.value() < 0) {
      throw new IllegalArgumentException(queue.option() + " must not be negative (was " + queue.value() + ")");
    }
    if (ceiling.given() && ceiling.value() < 1) {
      throw new IllegalArgumentException(ceiling.option() + " must be at least 1 (was " + ceiling.value() + ")");
    }
    return switch (model) {
      case "auto" -> {
        if (virtualAvailable) {
          String onVirtual = "-c auto runs virtual threads on Java " + java + ", which ";
          refuse(threads, " caps -c pool or -c thread; " + onVirtual + "have no cap: add -c pool to cap the "
              + "threads, or drop " + threads.option());
          refuse(queue, " sizes the queue of -c pool; " + onVirtual + "need none: add -c pool, or drop "
              + queue.option());
          refuse(ceiling, " lets -c pool grow; " + onVirtual + "have no cap: add -c pool, or drop "
              + ceiling.option());
          yield Concurrency.auto();
        }
        if (!threads.given() && !queue.given() && !ceiling.given()) {
          yield Concurrency.auto();
        }
        yield pool(threads, queue,
            orElse(ceiling, threads.given() ? threads.value() : Concurrency.auto().threadCeiling()));
      }
      case "virtual" -> {
        if (!virtualAvailable) {
          throw new IllegalArgumentException(modelOption + " virtual needs Java 21 or later (this is "
              + "Java " + java + "): use auto or pool");
        }
        refuse(threads, " caps -c pool or -c thread; virtual threads have no cap: drop " + threads.option()
            + ", or use -c pool");
        refuse(queue, " sizes the queue of -c pool; virtual threads need none: drop " + queue.option()
            + ", or use -c pool");
        refuse(ceiling, " lets -c pool grow; virtual threads have no cap: drop " + ceiling.option()
            + ", or use -c pool");
        yield Concurrency.virtualThreads();
      }
      case "pool", "epoll" -> pool(threads, queue, orElse(ceiling, threads.value()));
      case "thread" -> {
        refuse(queue, " sizes the queue of -c pool; -c thread queues nothing (past its cap a new client "
            + "gets 503): drop " + queue.option() + ", or use -c pool");
        refuse(ceiling, " lets -c pool grow; -c thread keeps the cap -t gives: drop " + ceiling.option()
            + ", or use -c pool");
        yield Concurrency.threadPerConnection(threads.value());
      }
      default -> throw new IllegalArgumentException(
          "--concurrency must be auto, virtual, pool (alias epoll) or thread (was " + model + ")");
    };
  }

  private static Concurrency pool(Given threads, Given queue, Given ceiling) {
    if (ceiling.value() < threads.value()) {
      throw new IllegalArgumentException(ceiling.option() + " " + ceiling.value() + " is below the pool's "
          + "starting cap of " + threads.value() + " threads: give at least " + threads.value()
          + (threads.given() ? ", or lower " + threads.option() : ", or lower it with -t/--threads"));
    }
    return Concurrency.boundedPool(threads.value(), queue.value()).growingTo(ceiling.value());
  }

  /** The ceiling given, else {@code otherwise}, which no option named. */
  private static Given orElse(Given ceiling, int otherwise) {
    return ceiling.given() ? ceiling : new Given(otherwise, null);
  }

  private static void refuse(Given number, String why) {
    if (number.given()) {
      throw new IllegalArgumentException(number.option() + why);
    }
  }
}
