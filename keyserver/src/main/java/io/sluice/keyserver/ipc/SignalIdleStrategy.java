package io.sluice.keyserver.ipc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.NoOpIdleStrategy;
import org.agrona.concurrent.YieldingIdleStrategy;

/**
 * Idles a key-server IPC consumer (a crypto worker on the request ring, a client's poller on its response ring) by
 * sleeping on the ring's {@link ShmSignal} until the producer in the other process signals a commit, instead of parking
 * for a backoff period the producer cannot cut short (it cannot unpark a thread in another process). A record is thus
 * picked up one futex wake-up after it is committed, not when a park ends; and an idle consumer costs one wake-up per
 * {@code maxWaitNs}, which bounds how late its periodic duty (heartbeats, reclaims) can run.
 * <p>
 * After a burst of work the consumer first keeps polling for {@code spinNs} (the {@code --spin-us} budget), giving the
 * core up with {@link Thread#yield()} between polls: a yield returns at once when nothing else is runnable on the core
 * (so the next record is seen within a poll, with no wake-up), and hands the core over when something is (on two
 * shared cores the thread it waits for may be exactly that). Only then does it sleep on the futex; nothing spins
 * unbounded, and an idle consumer sleeps. A yield that lost the core for a whole slice (longer than the budget) means the
 * core is contended: the consumer then skips the polling phase for a while and sleeps at once ({@link LostSliceGuard},
 * the guard the client's blocked callers use too), since a polling consumer is woken by nobody and a record committed
 * during its lost slice would wait for the slice to end.
 * <p>
 * When {@code ready} says there is work that the last {@code doWork} could not take (another worker holds the reader
 * role, a record is claimed but not yet committed) the delegate backs off as before. A delegate that never sleeps
 * (busy-spin, yielding, no-op: dedicated cores) is used alone, see {@link #sleeps}; its consumers never announce
 * themselves, so producers never make the wake syscall.
 */
public final class SignalIdleStrategy implements IdleStrategy
{
    /**
     * Poll this long after a burst of work before sleeping (the default of {@code --spin-us} and of the client's budget).
     * Measured on the 2-core VM (docs/keyserver.md): a futex wake-up of a sleeping thread there costs ~10 µs; polling
     * through a caller's turnaround (a few µs) means its next request is taken without one. The budget must outlast a
     * signature (ECDSA P-256 ~22.5 µs) so that a caller waiting for its reply is still polling when it comes: on a quiet
     * machine (load ~2) 20 µs gave a sign round trip of 37.4 µs p50 (the caller slept just before the reply and was
     * woken from an idle CPU), 50 µs 26.0 µs (3.5 µs over the in-process sign); under load (12–25) 20 and 50 µs gave
     * the same (28.8 / 28.6 µs), 50 µs costing a little more key-server CPU at 1000 signatures/s (84 / 72 µs per
     * request); 0 doubled the round trip.
     */
    public static final long DEFAULT_SPIN_NS = 50_000;
    /** Upper bound of the spin budget: a signature's time, a few times over, never more. */
    public static final long MAX_SPIN_NS = 1_000_000;

    private static final long NOT_SPINNING = Long.MIN_VALUE;

    private final IdleStrategy delegate;
    private final Supplier<ShmSignal> signal;
    private final BooleanSupplier ready;
    private final long maxWaitNs;
    private final boolean sleeps;
    private final MemorySegment timespec;
    private final long spinNs;
    private final boolean announcePolling;
    private final LostSliceGuard guard;
    private long spinStartNs = NOT_SPINNING;
    /** The signal this consumer took itself out of the sleeper count on while it polls, or null. */
    private ShmSignal pollingOn;
    private long sleepCount;
    private long wakeUpCount;

    /**
     * @param delegate backoff while work is visible but was not taken; used alone when it never sleeps.
     * @param signal the signal to sleep on, or null while there is none (a disconnected client: park instead).
     * @param ready true when there is work for this consumer.
     * @param maxWaitNs longest sleep in nanoseconds (1 µs..1 s).
     */
    public SignalIdleStrategy(final IdleStrategy delegate, final Supplier<ShmSignal> signal, final BooleanSupplier ready,
        final long maxWaitNs)
    {
        this(delegate, signal, ready, maxWaitNs, DEFAULT_SPIN_NS, false);
    }

    /**
     * @param delegate backoff while work is visible but was not taken; used alone when it never sleeps.
     * @param signal the signal to sleep on, or null while there is none (a disconnected client: park instead).
     * @param ready true when there is work for this consumer.
     * @param maxWaitNs longest sleep in nanoseconds (1 µs..1 s).
     * @param spinNs after work, keep polling (yielding between polls) this long before sleeping (0..{@link #MAX_SPIN_NS}).
     */
    public SignalIdleStrategy(final IdleStrategy delegate, final Supplier<ShmSignal> signal, final BooleanSupplier ready,
        final long maxWaitNs, final long spinNs)
    {
        this(delegate, signal, ready, maxWaitNs, spinNs, false);
    }

    /**
     * @param delegate backoff while work is visible but was not taken; used alone when it never sleeps.
     * @param signal the signal to sleep on, or null while there is none (a disconnected client: park instead).
     * @param ready true when there is work for this consumer.
     * @param maxWaitNs longest sleep in nanoseconds (1 µs..1 s).
     * @param spinNs after work, keep polling (yielding between polls) this long before sleeping (0..{@link #MAX_SPIN_NS}).
     * @param announcePolling while polling, take this consumer out of the signal's sleeper count
     *     ({@link ShmSignal#beginPolling}) so producers do not wake a sleeping fellow consumer for records this one will
     *     read; only where the signal's memory outlives the consumer (the workers' request signal) and where the
     *     consumer calls {@link #stopPolling} before any long work.
     */
    public SignalIdleStrategy(final IdleStrategy delegate, final Supplier<ShmSignal> signal, final BooleanSupplier ready,
        final long maxWaitNs, final long spinNs, final boolean announcePolling)
    {
        this(delegate, signal, ready, maxWaitNs, spinNs, announcePolling, new LostSliceGuard());
    }

    SignalIdleStrategy(final IdleStrategy delegate, final Supplier<ShmSignal> signal, final BooleanSupplier ready,
        final long maxWaitNs, final long spinNs, final boolean announcePolling, final LostSliceGuard guard)
    {
        if (spinNs < 0 || spinNs > MAX_SPIN_NS)
        {
            throw new IllegalArgumentException("spinNs: " + spinNs + " is not in 0.." + MAX_SPIN_NS);
        }
        if (maxWaitNs < 1000 || maxWaitNs > 1_000_000_000L)
        {
            throw new IllegalArgumentException("maxWaitNs: " + maxWaitNs + " is not in 1000..1000000000");
        }
        this.spinNs = spinNs;
        this.announcePolling = announcePolling;
        this.guard = guard;
        this.delegate = delegate;
        this.signal = signal;
        this.ready = ready;
        this.maxWaitNs = maxWaitNs;
        this.sleeps = sleeps(delegate);
        this.timespec = Arena.ofAuto().allocate(Futex.TIMESPEC_LENGTH, 8);
    }

    /**
     * @param strategy an idle strategy.
     * @return false for the strategies that never give the core up for long (busy-spin, yielding, no-op).
     */
    public static boolean sleeps(final IdleStrategy strategy)
    {
        return !(strategy instanceof BusySpinIdleStrategy || strategy instanceof YieldingIdleStrategy
            || strategy instanceof NoOpIdleStrategy);
    }

    @Override
    public void idle(final int workCount)
    {
        if (workCount > 0)
        {
            spinStartNs = NOT_SPINNING;
            if (spinNs > 0)
            {
                final long nowNs = guard.nanoTime();
                if (guard.pollingAllowed(nowNs))
                {
                    spinStartNs = nowNs;
                }
            }
            if (announcePolling && sleeps && spinStartNs != NOT_SPINNING && pollingOn == null)
            {
                pollingOn = signal.get();
                if (pollingOn != null)
                {
                    pollingOn.beginPolling();
                }
            }
            delegate.idle(workCount);
            return;
        }
        idle();
    }

    @Override
    public void idle()
    {
        if (!sleeps)
        {
            delegate.idle();
            return;
        }
        if (spinStartNs != NOT_SPINNING)
        {
            final long nowNs = guard.nanoTime();
            if (nowNs - spinStartNs < spinNs)
            {
                guard.yield(nowNs, spinNs);
                return;
            }
            spinStartNs = NOT_SPINNING;
        }
        // back in the sleeper count before the announcement and look of the wait below: a record committed while this
        // consumer was out of the count woke nobody, and the look after the announcement sees it
        stopPolling();
        final ShmSignal s = signal.get();
        if (s == null)
        {
            LockSupport.parkNanos(this, maxWaitNs);
            return;
        }
        final long result = s.awaitResult(ready, timespec, maxWaitNs);
        if (result == ShmSignal.READY)
        {
            // work is there but the last doWork did not get it: back off as the delegate says
            delegate.idle();
            return;
        }
        sleepCount++;
        if (result == Futex.WOKEN)
        {
            wakeUpCount++;
        }
        delegate.reset();
    }

    @Override
    public void reset()
    {
        spinStartNs = NOT_SPINNING;
        stopPolling();
        delegate.reset();
    }

    /**
     * End this consumer's polling announcement, if any: before long work (a signature), so that a record committed
     * meanwhile wakes a sleeping fellow consumer instead of waiting for this one. The consumer's thread only.
     *
     * @return true when it ended an announcement (records committed during it woke nobody).
     */
    public boolean stopPolling()
    {
        if (pollingOn != null)
        {
            pollingOn.endPolling();
            pollingOn = null;
            return true;
        }
        return false;
    }

    /** @return futex sleeps so far (the consumer's thread only; for tests and diagnostics). */
    public long sleepCount()
    {
        return sleepCount;
    }

    /** @return futex sleeps that a producer's wake ended (not the timeout; consumer's thread only). */
    public long wakeUpCount()
    {
        return wakeUpCount;
    }

    @Override
    public String alias()
    {
        return "futex-" + delegate.alias();
    }
}
