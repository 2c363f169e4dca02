package io.sluice.fastpath;

import java.util.SplittableRandom;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.sluice.fastpath.lb.MaglevTable;
import io.sluice.fastpath.session.FlowHash;

import static org.assertj.core.api.Assertions.assertThat;

class MaglevDisruptionTest
{
    @ParameterizedTest(name = "N = {0}")
    @ValueSource(ints = {3, 5, 10, 20})
    void shouldMoveAtMostOneNthPlusTwoPercentOfFlowsWhenOneBackendGoesDown(final int n)
    {
        final long[] ids = new long[n];
        final int[] weights = new int[n];
        final int[] values = new int[n];
        for (int i = 0; i < n; i++)
        {
            ids[i] = FlowHash.hash(0, 0x0000_FFFF_C612_0A00L + i, 0, 0, 8080, 0, 0);
            weights[i] = 100;
            values[i] = i;
        }
        final int size = MaglevTable.sizeFor(n, MaglevTable.DEFAULT_SIZE);
        assertThat(size).isGreaterThanOrEqualTo(65537);
        final MaglevTable before = MaglevTable.build(ids, weights, values, size);

        final int down = n / 2;
        final long[] ids2 = new long[n - 1];
        final int[] weights2 = new int[n - 1];
        final int[] values2 = new int[n - 1];
        for (int i = 0, j = 0; i < n; i++)
        {
            if (i != down)
            {
                ids2[j] = ids[i];
                weights2[j] = weights[i];
                values2[j] = values[i];
                j++;
            }
        }
        final MaglevTable after = MaglevTable.build(ids2, weights2, values2, size);

        final SplittableRandom random = new SplittableRandom(1);
        final int flows = 100_000;
        int moved = 0;
        for (int f = 0; f < flows; f++)
        {
            final long hash = FlowHash.mix(random.nextLong());
            final int a = before.lookup(hash);
            final int b = after.lookup(hash);
            assertThat(b).isNotEqualTo(down);
            if (a != b)
            {
                moved++;
            }
        }
        assertThat(moved / (double)flows).isLessThanOrEqualTo(1.0 / n + 0.02);
    }

    @ParameterizedTest(name = "backends = {0}")
    @ValueSource(ints = {1, 700, 1000})
    void shouldSizeThePrimeTableAtLeastAHundredTimesTheBackends(final int backends)
    {
        final int size = MaglevTable.sizeFor(backends, MaglevTable.DEFAULT_SIZE);
        assertThat(size).isGreaterThanOrEqualTo(Math.max(65537, 100 * backends));
        assertThat(java.math.BigInteger.valueOf(size).isProbablePrime(30)).isTrue();
    }
}
