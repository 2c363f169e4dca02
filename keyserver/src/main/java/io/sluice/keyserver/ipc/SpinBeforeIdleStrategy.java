package io.sluice.keyserver.ipc;

import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import org.agrona.concurrent.IdleStrategy;

/**
 * A short, time-bounded spin in front of another idle strategy, for the threads of the key-server round trip.
 * <p>
 * Each hand-off in the round trip lands on a thread that is idle; with a yield/park backoff that thread is usually
 * parked when its turn comes, and a park on Linux costs ~50 µs of timer slack plus a scheduler round — more than the
 * whole round trip should. So a thread that just did work (or, with {@code outstanding}, one that waits for replies)
 * spins for at most {@code spinNs} with {@link Thread#onSpinWait()} first, and only then falls back to the delegate
 * (the node's profile: spins, yields, parks). Idle costs nothing more: with no work and nothing outstanding the spin
 * is never entered again, so the {@code shared} profile still parks when idle. The spin is bounded per burst of work,
 * so a busy-but-not-saturated key server pays at most {@code spinNs} of CPU per gap between requests.
 * <p>
 * {@link #isDelegating()} tells another thread that this one may be parked, so it can unpark it (the client's callers
 * do this after queueing a request). With {@code idleParkNs > 0} and nothing outstanding the thread does not back off
 * at all but parks that long at once, relying on that unpark: the client's poller at ~400 handshakes/s otherwise woke
 * ~10 times per request climbing the backoff's parks again after every reply (7 % of the node's CPU samples).
 */
public final class SpinBeforeIdleStrategy implements IdleStrategy
{
    /**
     * Spin bound while a client has replies outstanding: none by default. Measured on the 2-core VM under load
     * (docs/keyserver.md): a spinning thread there delays the very thread it waits for (the woken thread queues behind
     * the spinner), so spins of 20–50 µs made the round trip slower (p50 ~95 µs instead of ~20 µs). What is kept:
     * the backoff restarts from its shortest park when replies become outstanding, and callers unpark the poller.
     */
    public static final long DEFAULT_OUTSTANDING_SPIN_NS = 0;

    private static final long NOT_SPINNING = Long.MIN_VALUE;

    private final IdleStrategy delegate;
    private final long spinNs;
    private final BooleanSupplier outstanding;
    private final long idleParkNs;
    private long spinStartNs = NOT_SPINNING;
    private volatile boolean delegating;

    /**
     * @param delegate the strategy used once the spin is over.
     * @param spinNs longest spin in nanoseconds (0..1 ms).
     * @param outstanding when non-null, spin only while it returns true (the spin starts when it becomes true, or
     *     after work); when null, spin after work.
     */
    public SpinBeforeIdleStrategy(final IdleStrategy delegate, final long spinNs, final BooleanSupplier outstanding)
    {
        this(delegate, spinNs, outstanding, 0);
    }

    /**
     * @param delegate the strategy used once the spin is over.
     * @param spinNs longest spin in nanoseconds (0..1 ms).
     * @param outstanding spin and back off only while it returns true.
     * @param idleParkNs while it returns false, park this long (0: back off in the delegate instead); whoever makes it
     *     true must unpark this thread when {@link #isDelegating()}.
     */
    public SpinBeforeIdleStrategy(final IdleStrategy delegate, final long spinNs, final BooleanSupplier outstanding,
        final long idleParkNs)
    {
        if (idleParkNs < 0 || (idleParkNs > 0 && outstanding == null))
        {
            throw new IllegalArgumentException("idleParkNs: " + idleParkNs + " needs an outstanding condition and must be >= 0");
        }
        this.idleParkNs = idleParkNs;
        if (spinNs < 0 || spinNs > 1_000_000)
        {
            throw new IllegalArgumentException("spinNs: " + spinNs + " is not in 0..1000000");
        }
        this.delegate = delegate;
        this.spinNs = spinNs;
        this.outstanding = outstanding;
    }

    @Override
    public void idle(final int workCount)
    {
        if (workCount > 0)
        {
            spinStartNs = System.nanoTime();
            delegate.reset();
            return;
        }
        idle();
    }

    @Override
    public void idle()
    {
        if (outstanding != null && !outstanding.getAsBoolean())
        {
            spinStartNs = NOT_SPINNING;
            if (idleParkNs > 0)
            {
                parkUntilUnparked();
            }
            else
            {
                delegateIdle();
            }
            return;
        }
        final long now = System.nanoTime();
        if (spinStartNs == NOT_SPINNING)
        {
            if (outstanding != null)
            {
                // replies became outstanding while this thread was idle: the spin starts now, and a reply slower than
                // the spin is waited for from the start of the backoff, not from its longest park
                spinStartNs = now;
                delegate.reset();
            }
            else
            {
                spinStartNs = now - spinNs;
            }
        }
        if (now - spinStartNs < spinNs)
        {
            Thread.onSpinWait();
            return;
        }
        delegateIdle();
    }

    private void parkUntilUnparked()
    {
        delegating = true;
        try
        {
            // announce first, then look again: a caller that queued work after our first look either sees the flag and
            // unparks us, or its work is seen here (volatile write then read on both sides)
            if (!outstanding.getAsBoolean())
            {
                LockSupport.parkNanos(this, idleParkNs);
            }
        }
        finally
        {
            delegating = false;
        }
    }

    private void delegateIdle()
    {
        delegating = true;
        try
        {
            delegate.idle();
        }
        finally
        {
            delegating = false;
        }
    }

    @Override
    public void reset()
    {
        spinStartNs = NOT_SPINNING;
        delegate.reset();
    }

    /**
     * @return true while the thread may be parked (or yielding) in the delegate: unpark it to cut a wake-up short.
     */
    public boolean isDelegating()
    {
        return delegating;
    }

    @Override
    public String alias()
    {
        return "spin-before-" + delegate.alias();
    }
}
