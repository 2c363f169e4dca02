package io.sluice.fastpath.lb;

import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The node-wide bucket and its per-forwarder grants. */
class TokenBucketTest
{
    private static final long T0 = 5_000_000_000L;

    @Test
    void shouldGiveTheBurstThenTheRateAcrossAllGrants()
    {
        final TokenBucket bucket = new TokenBucket(1_000_000);
        final TokenGrant a = new TokenGrant(bucket);
        final TokenGrant b = new TokenGrant(bucket);
        assertThat(bucket.burstBytes()).isEqualTo(100_000);
        long sent = 0;
        // Two forwarders taking 1000-byte frames alternately for one simulated second, every 100 µs.
        for (long t = T0; t < T0 + 1_000_000_000L; t += 100_000)
        {
            if (a.tryTake(t, 1000))
            {
                sent += 1000;
            }
            if (b.tryTake(t, 1000))
            {
                sent += 1000;
            }
        }
        assertThat(sent).as("burst + 1 s of rate, less at most a frame per grant").isBetween(1_100_000L - 2_000, 1_100_000L);
    }

    @Test
    void shouldShareOneBudgetWithEveryBucketOnTheSameCell()
    {
        // a load balancer's peak as the fastpath's bucket and the L7 proxy's peak hold it: two holders, one cell
        final AtomicLong cell = new AtomicLong(Long.MIN_VALUE);
        final TokenBucket l4 = new TokenBucket(1_000_000, cell);
        final TokenBucket other = new TokenBucket(1_000_000, cell);
        assertThat(l4.take(T0, 64 * 1024)).isEqualTo(64 * 1024);
        assertThat(other.take(T0, 64 * 1024)).as("what the first left of the burst").isEqualTo(100_000 - 64 * 1024);
        assertThat(l4.take(T0, 1)).isZero();
        // the other holder books 50 ms ahead (the proxy reserves what it will send): the bucket stays empty that long
        cell.addAndGet(50_000_000L);
        assertThat(l4.take(T0 + 40_000_000L, 1)).isZero();
        assertThat(l4.take(T0 + 60_000_000L, 64 * 1024)).isEqualTo(10_000);
        // a bucket on a cell of its own is not held by either
        assertThat(new TokenBucket(1_000_000).take(T0, 64 * 1024)).isEqualTo(64 * 1024);
    }

    @Test
    void shouldNeverGiveMoreThanTheBurstAfterAnIdlePeriod()
    {
        final TokenBucket bucket = new TokenBucket(1_000_000);
        assertThat(bucket.take(T0, 64 * 1024)).isEqualTo(64 * 1024);
        assertThat(bucket.take(T0, 64 * 1024)).isEqualTo(100_000 - 64 * 1024);
        assertThat(bucket.take(T0, 1)).isZero();
        assertThat(bucket.take(T0 + 3_600_000_000_000L, 64 * 1024)).isEqualTo(64 * 1024);
        assertThat(bucket.take(T0 + 3_600_000_000_000L, 64 * 1024)).isEqualTo(100_000 - 64 * 1024);
    }

    @Test
    void shouldEnforceTheShareOfALiveNodeCountAndReturnToTheWhole()
    {
        final TokenBucket bucket = new TokenBucket(1_000_000);
        bucket.share(4);
        assertThat(bucket.bytesPerSecond()).isEqualTo(250_000);
        assertThat(bucket.take(T0, 64 * 1024)).isEqualTo(25_000);
        bucket.share(1);
        assertThat(bucket.take(T0 + 1_000_000_000L, 64 * 1024)).isEqualTo(64 * 1024);
        assertThat(bucket.bytesPerSecond()).isEqualTo(1_000_000);
    }

    @Test
    void shouldReturnTokensGivenBack()
    {
        final TokenGrant grant = new TokenGrant(new TokenBucket(10_000));
        assertThat(grant.tryTake(T0, 1000)).isTrue();
        assertThat(grant.tryTake(T0, 1000)).as("burst 1000 B").isFalse();
        grant.giveBack(1000);
        assertThat(grant.tryTake(T0, 1000)).isTrue();
    }
}
