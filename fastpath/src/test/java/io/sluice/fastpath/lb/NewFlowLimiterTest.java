package io.sluice.fastpath.lb;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** New-flow buckets: the token bucket's algorithm with a one-second burst, single-writer. */
class NewFlowLimiterTest
{
    private static final long T0 = 5_000_000_000_000L;
    private static final long SECOND = 1_000_000_000L;

    @Test
    void shouldStartFullWithOneSecondOfFlowsAndRefillAtTheRate()
    {
        final NewFlowLimiter limiter = new NewFlowLimiter(10, 0, 1);
        for (int i = 0; i < 10; i++)
        {
            assertThat(limiter.tryListener(T0)).as("flow %d of the full bucket", i).isTrue();
        }
        assertThat(limiter.tryListener(T0)).isFalse();
        assertThat(limiter.tryListener(T0 + SECOND / 10 - 1)).as("a tenth of a second refills one flow, not before").isFalse();
        assertThat(limiter.tryListener(T0 + SECOND / 10)).isTrue();
        assertThat(limiter.tryListener(T0 + SECOND / 10)).isFalse();
        // idle for a long while: full again, never more than one second's worth
        int admitted = 0;
        while (limiter.tryListener(T0 + 60 * SECOND))
        {
            admitted++;
        }
        assertThat(admitted).isEqualTo(10);
    }

    @Test
    void shouldAdmitTheRateOverTimeWhenItDoesNotDivideASecond()
    {
        final NewFlowLimiter limiter = new NewFlowLimiter(3, 0, 1);
        int admitted = 0;
        for (long t = T0; t <= T0 + 10 * SECOND; t += SECOND / 1000)
        {
            if (limiter.tryListener(t))
            {
                admitted++;
            }
        }
        // the full bucket (3), then 3 per second for 10 s (cost rounded up to the ns: 333 333 334 ns a flow)
        assertThat(admitted).isBetween(32, 33);
    }

    @Test
    void shouldLimitEachSourceApartAndShareTheRateOverForwarders()
    {
        // 4 per source per second over 2 forwarders: 2 each
        final NewFlowLimiter limiter = new NewFlowLimiter(0, 4, 2);
        assertThat(limiter.tryListener(T0)).as("no listener limit").isTrue();
        assertThat(limiter.trySource(0x1234_5678_9abcL, T0)).isTrue();
        assertThat(limiter.trySource(0x1234_5678_9abcL, T0)).isTrue();
        assertThat(limiter.trySource(0x1234_5678_9abcL, T0)).isFalse();
        assertThat(limiter.trySource(0x1111_2222_3333L, T0)).as("another source has its own bucket").isTrue();
        assertThat(limiter.trySource(0x1234_5678_9abcL, T0 + SECOND / 2)).isTrue();
        assertThat(limiter.trySource(0x1234_5678_9abcL, T0 + SECOND / 2)).isFalse();
    }

    @Test
    void shouldGiveASourceTakingOverASlotAFullBucket()
    {
        final NewFlowLimiter limiter = new NewFlowLimiter(0, 1, 1);
        final long first = 7;
        // same slot (low 12 bits of hash ^ hash >>> 32), another address
        final long second = first + NewFlowLimiter.SOURCE_SLOTS;
        assertThat(limiter.trySource(first, T0)).isTrue();
        assertThat(limiter.trySource(first, T0)).isFalse();
        assertThat(limiter.trySource(second, T0)).isTrue();
        assertThat(limiter.trySource(first, T0)).as("took the slot back with a full bucket").isTrue();
    }
}
