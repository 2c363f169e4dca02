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
 * for a backoff period the producer cannot cut short (it cannot unpark a thread in another process). A reply or a
 * request is thus picked up one futex wake-up after it is committed, not when a park ends; and an idle consumer costs
 * one wake-up per {@code maxWaitNs}, which bounds how late its periodic duty (heartbeats, reclaims) can run.
 * <p>
 * After a burst of work the consumer first yields for {@code yieldNs} (the next request or reply usually comes within
 * that on a busy server, and is then taken without any wake-up), and only then sleeps.
 * <p>
 * When {@code ready} says there is work that the last {@code doWork} could not take (another worker holds the reader
 * role, a record is claimed but not yet committed) the delegate backs off as before. A delegate that never sleeps
 * (busy-spin, yielding, no-op: dedicated cores) is used alone, see {@link #sleeps}; its consumers never announce
 * themselves, so producers never make the wake syscall.
 */
public final class SignalIdleStrategy implements IdleStrategy
{
    /**
     * Yield this long after a burst of work before sleeping. Measured on the 2-core VM (docs/keyserver.md): a futex
     * wake-up of a sleeping thread there costs ~10 µs (the woken vCPU may be halted), three per signature round trip
     * (worker, poller, caller); yielding through the gap of one signature (~25 µs ECDSA) saves two of them, and unlike
     * a spin a yield gives the core to any runnable thread, so it does not delay the thread it waits for.
     */
    public static final long DEFAULT_YIELD_NS = 50_000;

    private static final long NOT_YIELDING = Long.MIN_VALUE;

    private final IdleStrategy delegate;
    private final Supplier<ShmSignal> signal;
    private final BooleanSupplier ready;
    private final long maxWaitNs;
    private final boolean sleeps;
    private final MemorySegment timespec;
    private final long yieldNs;
    private long yieldStartNs = NOT_YIELDING;

    /**
     * @param delegate backoff while work is visible but was not taken; used alone when it never sleeps.
     * @param signal the signal to sleep on, or null while there is none (a disconnected client: park instead).
     * @param ready true when there is work for this consumer.
     * @param maxWaitNs longest sleep in nanoseconds (1 µs..1 s).
     */
    public SignalIdleStrategy(final IdleStrategy delegate, final Supplier<ShmSignal> signal, final BooleanSupplier ready,
        final long maxWaitNs)
    {
        this(delegate, signal, ready, maxWaitNs, DEFAULT_YIELD_NS);
    }

    /**
     * @param delegate backoff while work is visible but was not taken; used alone when it never sleeps.
     * @param signal the signal to sleep on, or null while there is none (a disconnected client: park instead).
     * @param ready true when there is work for this consumer.
     * @param maxWaitNs longest sleep in nanoseconds (1 µs..1 s).
     * @param yieldNs after work, yield this long before sleeping (0..1 ms).
     */
    public SignalIdleStrategy(final IdleStrategy delegate, final Supplier<ShmSignal> signal, final BooleanSupplier ready,
        final long maxWaitNs, final long yieldNs)
    {
        if (yieldNs < 0 || yieldNs > 1_000_000)
        {
            throw new IllegalArgumentException("yieldNs: " + yieldNs + " is not in 0..1000000");
        }
        this.yieldNs = yieldNs;
        if (maxWaitNs < 1000 || maxWaitNs > 1_000_000_000L)
        {
            throw new IllegalArgumentException("maxWaitNs: " + maxWaitNs + " is not in 1000..1000000000");
        }
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
            yieldStartNs = yieldNs > 0 ? System.nanoTime() : NOT_YIELDING;
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
        if (yieldStartNs != NOT_YIELDING)
        {
            if (System.nanoTime() - yieldStartNs < yieldNs)
            {
                Thread.yield();
                return;
            }
            yieldStartNs = NOT_YIELDING;
        }
        final ShmSignal s = signal.get();
        if (s == null)
        {
            LockSupport.parkNanos(this, maxWaitNs);
            return;
        }
        if (s.await(ready, timespec, maxWaitNs))
        {
            // work is there but the last doWork did not get it: back off as the delegate says
            delegate.idle();
        }
        else
        {
            delegate.reset();
        }
    }

    @Override
    public void reset()
    {
        yieldStartNs = NOT_YIELDING;
        delegate.reset();
    }

    @Override
    public String alias()
    {
        return "futex-" + delegate.alias();
    }
}
