package io.sluice.keyserver.ipc;

import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.NanoClock;

/**
 * Bounds what a lost time slice costs a thread that polls a ring with {@link Thread#yield()} between polls (a caller
 * blocked on its reply, a crypto worker or the client's poller in its spin phase). A yield on a contended core can hand
 * the core away for a whole scheduler slice (ms on this VM: measured p99 1.5-2.7 ms, docs/keyserver.md), and while the
 * thread polls nobody wakes it: a record committed meanwhile waits for the slice to end. A parked or futex-sleeping
 * thread's wake-up costs far less (p99 ~70 µs). So after one yield kept the thread off the core for longer than its whole
 * spin budget, the core counts as contended: polling is suspended for {@link #BACKOFF_NS} (the thread sleeps at once
 * and is woken), and a poller loses at most one such slice per period. On a machine with an idle core the yields return
 * at once and the guard never trips.
 * <p>
 * Thread-safe: one guard may be shared by several polling threads (the client's blocked callers); the races between
 * them only decide which of two nearly equal resume times wins.
 */
public final class LostSliceGuard
{
    /** How long polling stays suspended after a lost slice. */
    public static final long BACKOFF_NS = TimeUnit.MILLISECONDS.toNanos(100);

    private final NanoClock clock;
    private final Runnable yielder;
    private final long backoffNs;
    private volatile long pollingResumesNs;

    /** A guard on {@link System#nanoTime()} that yields with {@link Thread#yield()}. */
    public LostSliceGuard()
    {
        this(System::nanoTime, Thread::yield, BACKOFF_NS);
    }

    /**
     * @param clock the time.
     * @param yielder gives the core up once (tests pass one that moves their clock).
     * @param backoffNs how long polling stays suspended after a lost slice.
     */
    LostSliceGuard(final NanoClock clock, final Runnable yielder, final long backoffNs)
    {
        this.clock = clock;
        this.yielder = yielder;
        this.backoffNs = backoffNs;
        this.pollingResumesNs = clock.nanoTime();
    }

    /** @return the guard's clock, nanoseconds. */
    public long nanoTime()
    {
        return clock.nanoTime();
    }

    /**
     * @param nowNs {@link #nanoTime()}.
     * @return false while polling is suspended after a lost slice: sleep (park, futex) at once instead.
     */
    public boolean pollingAllowed(final long nowNs)
    {
        return nowNs - pollingResumesNs >= 0;
    }

    /**
     * Give the core up once between two polls; a yield that kept this thread off the core for longer than its whole
     * budget suspends polling for {@link #BACKOFF_NS}.
     *
     * @param beforeNs {@link #nanoTime()} before the yield.
     * @param budgetNs the poller's whole spin budget.
     * @return {@link #nanoTime()} after the yield.
     */
    public long yield(final long beforeNs, final long budgetNs)
    {
        yielder.run();
        final long afterNs = clock.nanoTime();
        if (afterNs - beforeNs > budgetNs)
        {
            pollingResumesNs = afterNs + backoffNs;
        }
        return afterNs;
    }
}
