package io.sluice.perf.subjects;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class JitQuietWarmupTest
{
    private static final JitQuietWarmup WARMUP = new JitQuietWarmup(3, 30, 0.05, 2);

    /** A subject whose compilers take these shares of its 1000 ticks per slice, one share per slice. */
    private static final class FakeSubject
    {
        private final double[] jitShares;
        private final List<Integer> slices = new ArrayList<>();
        private long all;
        private long jit;

        FakeSubject(final double... jitShares)
        {
            this.jitShares = jitShares;
        }

        void slice(final int index)
        {
            slices.add(index);
            all += 1000;
            jit += Math.round(1000 * jitShares[Math.min(index, jitShares.length - 1)]);
        }

        JitQuietWarmup.Ticks ticks()
        {
            return new JitQuietWarmup.Ticks(all, jit);
        }
    }

    @Test
    void shouldStopAfterTwoQuietSlicesInARow()
    {
        // a deoptimisation storm in the first slice, one quiet slice, a recompilation, then quiet
        final FakeSubject subject = new FakeSubject(0.20, 0.01, 0.08, 0.05, 0.00, 0.30);

        final double seconds = WARMUP.run(subject::slice, subject::ticks);

        assertThat(subject.slices).containsExactly(0, 1, 2, 3, 4);
        assertThat(seconds).isEqualTo(15.0);
    }

    @Test
    void shouldStopAtTheCapWhenTheCompilersNeverGoQuiet()
    {
        final FakeSubject subject = new FakeSubject(0.5);

        final double seconds = WARMUP.run(subject::slice, subject::ticks);

        assertThat(subject.slices).hasSize(10);
        assertThat(seconds).isEqualTo(30.0);
    }

    @Test
    void shouldNotCountASliceWithoutCpuAsQuiet()
    {
        // ticks that never move (the subject's threads gone): no slice shows a quiet compiler, so the cap ends it
        final FakeSubject subject = new FakeSubject(0);
        final JitQuietWarmup.Ticks frozen = new JitQuietWarmup.Ticks(7, 0);

        final double seconds = WARMUP.run(subject::slice, () -> frozen);

        assertThat(subject.slices).hasSize(10);
        assertThat(seconds).isEqualTo(30.0);
    }

    @Test
    void shouldRejectSettingsThatCannotEnd()
    {
        assertThatThrownBy(() -> new JitQuietWarmup(0, 30, 0.05, 2)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new JitQuietWarmup(5, 3, 0.05, 2)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new JitQuietWarmup(3, 30, 1.5, 2)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new JitQuietWarmup(3, 30, 0.05, 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
