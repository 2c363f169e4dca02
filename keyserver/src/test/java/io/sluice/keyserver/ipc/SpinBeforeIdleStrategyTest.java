package io.sluice.keyserver.ipc;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicBoolean;

import org.agrona.concurrent.IdleStrategy;
import org.junit.jupiter.api.Test;

class SpinBeforeIdleStrategyTest
{
    private static class CountingIdle implements IdleStrategy
    {
        int idles;
        int resets;

        @Override
        public void idle(final int workCount)
        {
            idles++;
        }

        @Override
        public void idle()
        {
            idles++;
        }

        @Override
        public void reset()
        {
            resets++;
        }
    }

    @Test
    void shouldIdleInTheDelegateAtOnceWhileNothingIsOutstanding()
    {
        final CountingIdle delegate = new CountingIdle();
        final SpinBeforeIdleStrategy idle = new SpinBeforeIdleStrategy(delegate, 1_000_000, () -> false);
        idle.idle(0);
        idle.idle(0);
        assertThat(delegate.idles).isEqualTo(2);
    }

    @Test
    void shouldRestartTheBackoffWhenRepliesBecomeOutstanding()
    {
        final CountingIdle delegate = new CountingIdle();
        final AtomicBoolean outstanding = new AtomicBoolean();
        final SpinBeforeIdleStrategy idle = new SpinBeforeIdleStrategy(delegate, 0, outstanding::get);
        idle.idle(0);
        assertThat(delegate.resets).isZero();
        outstanding.set(true);
        idle.idle(0);
        // the wait for a reply starts from the shortest park, not from wherever the idle backoff had got to
        assertThat(delegate.resets).isEqualTo(1);
        assertThat(delegate.idles).isEqualTo(2);
        idle.idle(0);
        assertThat(delegate.resets).isEqualTo(1);
    }

    @Test
    void shouldResetTheDelegateAfterWork()
    {
        final CountingIdle delegate = new CountingIdle();
        final SpinBeforeIdleStrategy idle = new SpinBeforeIdleStrategy(delegate, 0, null);
        idle.idle(3);
        assertThat(delegate.resets).isEqualTo(1);
        assertThat(delegate.idles).isZero();
        idle.idle(0);
        assertThat(delegate.idles).isEqualTo(1);
    }

    @Test
    void shouldSayWhenTheThreadMayBeParkedInTheDelegate()
    {
        final SpinBeforeIdleStrategy[] self = new SpinBeforeIdleStrategy[1];
        final boolean[] seen = new boolean[1];
        final IdleStrategy delegate = new CountingIdle()
        {
            @Override
            public void idle()
            {
                seen[0] = self[0].isDelegating();
            }
        };
        self[0] = new SpinBeforeIdleStrategy(delegate, 0, null);
        self[0].idle(0);
        assertThat(seen[0]).isTrue();
        assertThat(self[0].isDelegating()).isFalse();
    }

    @Test
    void shouldParkWithoutBackingOffWhileNothingIsOutstandingWhenAskedTo()
    {
        final CountingIdle delegate = new CountingIdle();
        final AtomicBoolean outstanding = new AtomicBoolean();
        final SpinBeforeIdleStrategy idle = new SpinBeforeIdleStrategy(delegate, 0, outstanding::get, 1_000_000);
        idle.idle(0);
        assertThat(delegate.idles).isZero();
        assertThat(idle.isDelegating()).isFalse();
        outstanding.set(true);
        idle.idle(0);
        assertThat(delegate.idles).isEqualTo(1);
    }
}
