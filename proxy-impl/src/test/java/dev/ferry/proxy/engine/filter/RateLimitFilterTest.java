package dev.ferry.proxy.engine.filter;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.proxy.Filters;
import dev.ferry.proxy.RateLimit;
import dev.ferry.proxy.Request;
import dev.ferry.proxy.engine.http1.ProxyFailure;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

/** The token bucket and its bounded store, on a hand-driven clock; no sockets. */
class RateLimitFilterTest {
  private final AtomicLong now = new AtomicLong(1_000_000_000L);

  private RateLimitFilter limiter(RateLimit config) {
    return new RateLimitFilter(config, now::get);
  }

  @Test
  void refillsTokensAtTheConfiguredRate() {
    RateLimitFilter limit = limiter(Filters.rateLimit().perSecond(2).burst(3).build());
    for (int i = 0; i < 3; i++) {
      assertThat(limit.take("a")).isZero();
    }
    assertThat(limit.take("a")).isCloseTo(0.5, Offset.offset(0.01));
    assertThat(limit.take("b")).as("keys are independent").isZero();
    now.addAndGet(500_000_000L);
    assertThat(limit.take("a")).isZero();
    assertThat(limit.take("a")).isPositive();
    now.addAndGet(60_000_000_000L);
    for (int i = 0; i < 3; i++) {
      assertThat(limit.take("a")).as("refills only up to the burst").isZero();
    }
    assertThat(limit.take("a")).isPositive();
  }

  /**
   * A key header's value that spells a client's address names its own bucket, not the
   * client's: it can neither drain that client's tokens nor borrow them.
   */
  @Test
  void keepsHeaderKeysApartFromClientAddresses() {
    RateLimitFilter limit = limiter(Filters.rateLimit().perSecond(0.001).burst(1).keyHeader("X-Api-Key").build());
    InetSocketAddress client = new InetSocketAddress(InetAddress.getLoopbackAddress(), 40000);
    Request spelled = Request.builder().header("X-Api-Key", "127.0.0.1").build();
    assertThat(limit.take(spelled, client)).as("the header's bucket").isNull();
    assertThat(limit.take(Request.builder().build(), client)).as("the client's own bucket").isNull();
    assertThat(limit.take(spelled, client)).as("the header's bucket, spent").isNotNull();
    assertThat(limit.take(Request.builder().build(), client).failure()).isEqualTo(ProxyFailure.RATE_LIMITED);
  }

  @Test
  void forgetsBucketsOnceTheyWouldHaveRefilled() {
    RateLimitFilter limit = limiter(Filters.rateLimit().perSecond(10).burst(20).build());
    for (int i = 0; i < 1_000; i++) {
      limit.take("client-" + i);
    }
    assertThat(limit.keys()).isEqualTo(1_000);
    now.addAndGet(TimeUnit.SECONDS.toNanos(3)); // 20 tokens at 10/s: full again after 2 s
    assertThat(limit.keys()).isZero();
  }

  @Test
  void staysBoundedAndKeepsLimitingAHotKeyUnderAFloodOfKeys() {
    RateLimitFilter limit = limiter(Filters.rateLimit().perSecond(1).burst(5).maxKeys(1_000).build());
    int hotAdmitted = 0;
    int coldLimited = 0;
    for (int i = 0; i < 50_000; i++) {
      if (limit.take("hot") == 0) {
        hotAdmitted++;
      }
      if (limit.take("cold-" + i) > 0) {
        coldLimited++;
      }
      if (i % 10_000 == 0) {
        assertThat(limit.keys()).isLessThanOrEqualTo(1_000);
      }
    }
    assertThat(limit.keys()).isLessThanOrEqualTo(1_000);
    assertThat(hotAdmitted).as("the clock stood still: only the burst").isEqualTo(5);
    assertThat(coldLimited).as("each new key starts with a full bucket").isZero();
  }
}
