package io.sluice.keyserver.ipc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.SleepingIdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.YieldingIdleStrategy;
import org.junit.jupiter.api.Test;

class SignalIdleStrategyTest
{
    private static final long WAIT_NS = TimeUnit.MILLISECONDS.toNanos(5);

    @Test
    void shouldSleepOnlyForStrategiesThatGiveTheCoreUp()
    {
        assertThat(SignalIdleStrategy.sleeps(new BackoffIdleStrategy())).isTrue();
        assertThat(SignalIdleStrategy.sleeps(new SleepingIdleStrategy())).isTrue();
        assertThat(SignalIdleStrategy.sleeps(new BusySpinIdleStrategy())).isFalse();
        assertThat(SignalIdleStrategy.sleeps(new YieldingIdleStrategy())).isFalse();
    }

    @Test
    void shouldReturnFromIdleAfterItsLongestWaitWhenNothingIsSignalled()
    {
        final ShmSignal signal = new ShmSignal(new UnsafeBuffer(ByteBuffer.allocateDirect(64)), 0);
        final CountingIdle delegate = new CountingIdle();
        final IdleStrategy idle = new SignalIdleStrategy(delegate, () -> signal, () -> false, WAIT_NS, 0);

        idle.idle(0);
        idle.idle();

        assertThat(delegate.idles.get()).as("slept on the word, not in the delegate").isZero();
        assertThat(signal.sleepers()).isZero();
    }

    @Test
    void shouldBackOffInTheDelegateWhileWorkIsVisibleButNotTaken()
    {
        final ShmSignal signal = new ShmSignal(new UnsafeBuffer(ByteBuffer.allocateDirect(64)), 0);
        final CountingIdle delegate = new CountingIdle();
        final IdleStrategy idle = new SignalIdleStrategy(delegate, () -> signal, () -> true, WAIT_NS, 0);

        idle.idle(0);

        assertThat(delegate.idles.get()).isEqualTo(1);
    }

    @Test
    void shouldParkWithoutASignalAndUseANeverSleepingDelegateAlone()
    {
        final CountingIdle delegate = new CountingIdle();
        new SignalIdleStrategy(delegate, () -> null, () -> false, WAIT_NS, 0).idle(0);
        assertThat(delegate.idles.get()).isZero();

        final AtomicInteger looked = new AtomicInteger();
        new SignalIdleStrategy(new BusySpinIdleStrategy(), () -> null, () -> looked.incrementAndGet() > 0, WAIT_NS, 0).idle(0);
        assertThat(looked.get()).as("a busy-spin consumer never announces itself").isZero();
    }

    @Test
    void shouldRejectWaitsOutsideTheirBounds()
    {
        assertThatThrownBy(() -> new SignalIdleStrategy(new BackoffIdleStrategy(), () -> null, () -> false, 10, 0))
            .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new SignalIdleStrategy(new BackoffIdleStrategy(), () -> null, () -> false, WAIT_NS, -1))
            .isInstanceOf(IllegalArgumentException.class);
    }

    private static final class CountingIdle implements IdleStrategy
    {
        final AtomicInteger idles = new AtomicInteger();

        @Override
        public void idle(final int workCount)
        {
            if (workCount <= 0)
            {
                idles.incrementAndGet();
            }
        }

        @Override
        public void idle()
        {
            idles.incrementAndGet();
        }

        @Override
        public void reset()
        {
        }
    }
}
