package io.sluice.keyserver.ipc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.SleepingIdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.YieldingIdleStrategy;
import org.junit.jupiter.api.Test;

import io.sluice.nativeio.Libc;

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
    void shouldSleepInTheKernelUntilItsLongestWaitWhenNothingIsSignalled() throws Exception
    {
        final ShmSignal signal = new ShmSignal(new UnsafeBuffer(ByteBuffer.allocateDirect(64)), 0);
        final CountingIdle delegate = new CountingIdle();
        final SignalIdleStrategy idle = new SignalIdleStrategy(delegate, () -> signal, () -> false,
            TimeUnit.MILLISECONDS.toNanos(200), 0);
        final AtomicBoolean stop = new AtomicBoolean();
        final long startNs = System.nanoTime();
        final Consumer consumer = new Consumer(() ->
        {
            while (!stop.get())
            {
                idle.idle(0);
            }
        });

        // a futex that did nothing would return at once: the thread would never be seen asleep in the kernel
        awaitAsleepOnFutex(consumer, signal);
        stop.set(true);
        consumer.join();
        final long elapsedNs = System.nanoTime() - startNs;

        assertThat(idle.sleepCount()).isPositive();
        // each sleep lasts its whole timeout (nothing wakes it): a wait that returned early would make many more
        assertThat(idle.sleepCount()).isLessThanOrEqualTo(elapsedNs / TimeUnit.MILLISECONDS.toNanos(200) + 1);
        assertThat(idle.wakeUpCount()).as("every sleep ended by its timeout").isZero();
        assertThat(delegate.idles.get()).as("slept on the word, not in the delegate").isZero();
        assertThat(signal.sleepers()).isZero();
    }

    @Test
    void shouldSleepOnceItsSpinBudgetIsSpent()
    {
        final ShmSignal signal = new ShmSignal(new UnsafeBuffer(ByteBuffer.allocateDirect(64)), 0);
        final SignalIdleStrategy idle = new SignalIdleStrategy(new CountingIdle(), () -> signal, () -> false, 1000, 1000);

        final long workNs = System.nanoTime();
        idle.idle(1);
        passBudget(workNs);
        idle.idle(0);

        assertThat(idle.sleepCount()).isEqualTo(1);
    }

    private static void passBudget(final long fromNs)
    {
        while (System.nanoTime() - fromNs < 2000)
        {
            Thread.onSpinWait();
        }
    }

    @Test
    void shouldSleepAtOnceAfterWorkWhileAYieldLostTheCoreForLongerThanItsBudget()
    {
        final ShmSignal signal = new ShmSignal(new UnsafeBuffer(ByteBuffer.allocateDirect(64)), 0);
        final FakeCore core = new FakeCore(TimeUnit.MILLISECONDS.toNanos(2));
        final long spinNs = TimeUnit.MICROSECONDS.toNanos(50);
        // announcing polling as the crypto workers do: a polling worker is woken by nobody
        final SignalIdleStrategy idle = new SignalIdleStrategy(new CountingIdle(), () -> signal, () -> false, 1000, spinNs, true,
            core.guard(TimeUnit.MILLISECONDS.toNanos(100)));

        idle.idle(1);
        assertThat(signal.sleepers()).as("out of the sleeper count while it polls").isEqualTo(-1);
        idle.idle(0);
        assertThat(core.yields).as("polled once, and that yield lost the core for 2 ms").isEqualTo(1);

        // the next burst of work: no polling phase (no yield), straight to the futex, back in the sleeper count
        idle.idle(1);
        idle.idle(0);
        assertThat(core.yields).isEqualTo(1);
        assertThat(idle.sleepCount()).isEqualTo(1);
        assertThat(signal.sleepers()).isZero();

        // the back-off over, and the core free again (yields come back at once): it polls after work again
        core.nowNs += TimeUnit.MILLISECONDS.toNanos(100);
        core.yieldCostNs = 1000;
        idle.idle(1);
        idle.idle(0);
        idle.idle(0);
        assertThat(core.yields).isEqualTo(3);
        assertThat(idle.sleepCount()).isEqualTo(1);
        idle.idle(1);
        idle.idle(0);
        assertThat(core.yields).as("short yields never suspend polling").isEqualTo(4);
        idle.reset();
        assertThat(signal.sleepers()).isZero();
    }

    @Test
    void shouldKeepPollingAfterWorkWhileYieldsReturnWithinItsBudget()
    {
        final ShmSignal signal = new ShmSignal(new UnsafeBuffer(ByteBuffer.allocateDirect(64)), 0);
        final FakeCore core = new FakeCore(TimeUnit.MICROSECONDS.toNanos(10));
        final SignalIdleStrategy idle = new SignalIdleStrategy(new CountingIdle(), () -> signal, () -> false, 1000,
            TimeUnit.MICROSECONDS.toNanos(50), false, core.guard(TimeUnit.MILLISECONDS.toNanos(100)));

        for (int burst = 0; burst < 3; burst++)
        {
            idle.idle(1);
            for (int i = 0; i < 5; i++)
            {
                idle.idle(0);
            }
        }

        // per burst: yields at 0, 10, 20, 30, 40 µs into the 50 µs budget, then one sleep
        assertThat(core.yields).isEqualTo(3 * 5);
        assertThat(idle.sleepCount()).isZero();
        idle.idle(0);
        assertThat(idle.sleepCount()).isEqualTo(1);
    }

    @Test
    void shouldShareOneLostSliceBetweenTheThreadsUsingAGuard()
    {
        final FakeCore core = new FakeCore(TimeUnit.MILLISECONDS.toNanos(3));
        final LostSliceGuard guard = core.guard(TimeUnit.MILLISECONDS.toNanos(100));
        final long budgetNs = TimeUnit.MICROSECONDS.toNanos(50);

        assertThat(guard.pollingAllowed(guard.nanoTime())).isTrue();
        final long afterNs = guard.yield(guard.nanoTime(), budgetNs);

        assertThat(afterNs).isEqualTo(core.nowNs);
        assertThat(guard.pollingAllowed(afterNs)).isFalse();
        assertThat(guard.pollingAllowed(afterNs + TimeUnit.MILLISECONDS.toNanos(100) - 1)).isFalse();
        assertThat(guard.pollingAllowed(afterNs + TimeUnit.MILLISECONDS.toNanos(100))).isTrue();
    }

    /** A clock that moves only when the polling thread yields (by what the yield costs). */
    private static final class FakeCore
    {
        long nowNs = 1_000_000_000L;
        long yieldCostNs;
        int yields;

        FakeCore(final long yieldCostNs)
        {
            this.yieldCostNs = yieldCostNs;
        }

        LostSliceGuard guard(final long backoffNs)
        {
            return new LostSliceGuard(() -> nowNs, () ->
            {
                yields++;
                nowNs += yieldCostNs;
            }, backoffNs);
        }
    }

    @Test
    void shouldBeWokenFromItsSleepByTheProducersSignal() throws Exception
    {
        final ShmSignal signal = new ShmSignal(new UnsafeBuffer(ByteBuffer.allocateDirect(64)), 0);
        final AtomicBoolean work = new AtomicBoolean();
        // the longest wait allowed (1 s): a sleep that ended by timeout would not count as a wake-up
        final SignalIdleStrategy idle = new SignalIdleStrategy(new CountingIdle(), () -> signal, work::get,
            TimeUnit.SECONDS.toNanos(1), 0);
        final Consumer consumer = new Consumer(() ->
        {
            while (!work.get())
            {
                idle.idle(0);
            }
        });

        awaitAsleepOnFutex(consumer, signal);
        work.set(true);
        assertThat(signal.signal()).as("a sleeper was announced, so the producer made the wake call").isTrue();
        consumer.join();

        assertThat(idle.wakeUpCount()).as("the sleep was ended by the wake, not by its timeout").isEqualTo(1);
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

    /** Wait until the consumer thread sits in FUTEX_WAIT (state S, wchan futex_*) with its sleep announced. */
    private static void awaitAsleepOnFutex(final Consumer consumer, final ShmSignal signal) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!(signal.sleepers() == 1 && consumer.asleepOnFutex()))
        {
            assertThat(System.nanoTime()).as("consumer asleep on the futex").isLessThan(deadline);
            assertThat(consumer.failure.get()).isNull();
            Thread.sleep(1);
        }
    }

    /** A thread running the consumer loop, with its kernel thread id. */
    private static final class Consumer
    {
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final AtomicInteger tid = new AtomicInteger();
        final Thread thread;

        Consumer(final Runnable loop)
        {
            thread = new Thread(() ->
            {
                tid.set(Libc.gettid());
                try
                {
                    loop.run();
                }
                catch (final Throwable t)
                {
                    failure.set(t);
                }
            }, "consumer");
            thread.setDaemon(true);
            thread.start();
        }

        boolean asleepOnFutex() throws IOException
        {
            return FutexProbe.asleepOnFutex(tid.get());
        }

        void join() throws Exception
        {
            thread.join(TimeUnit.SECONDS.toMillis(20));
            assertThat(thread.isAlive()).as("consumer finished").isFalse();
            assertThat(failure.get()).isNull();
        }
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
