package io.sluice.fastpath.io;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.locks.LockSupport;

import org.agrona.concurrent.IdleStrategy;

import io.sluice.nativeio.Libc;
import io.sluice.nativeio.ThreadScheduling;

/**
 * A forwarder's idle strategy for profiles that must not burn a core: spin, yield, then sleep in {@code poll(2)} on
 * the forwarder's sockets instead of a timed park, so a frame that arrives while the forwarder sleeps wakes it at once
 * (AF_XDP sockets signal readability when the rx ring gets frames). A timed park sleeps its whole period — at least the
 * kernel's 50 µs timer slack even for a 1 µs park — and every TCP handshake through sluice crossed that delay three
 * times: new connections per second were bound by forwarder wake-up latency, not by work.
 * <p>
 * The poll timeout ({@code maxParkMs}) still bounds how late the forwarder sees what does not signal a socket: a new
 * table generation, session expiry; and frames handed off by another forwarder unless a {@link EventFdDoorbell} is
 * given, whose eventfd joins the poll set and is written by a forwarder that hands this one a frame while it sleeps.
 * <p>
 * The thread that first idles with it (the forwarder's own) gets the nice value it was given: in copy mode a forwarder
 * is the one thread every frame of every flow crosses, and on a CPU-bound machine it got no more of a core than any one
 * of the client or backend threads it serves, while nftables' equivalent work runs in softirq, ahead of every task.
 * A moderate boost (-10: about 9 × the weight of a nice-0 task) measured better than none and than a strong one (-19,
 * or SCHED_FIFO), which preempts on every frame and forwards one frame per duty cycle (docs/fastpath.md, session 4).
 */
public final class PollingIdleStrategy implements IdleStrategy
{
    private final MemorySegment pollFds;
    private final int count;
    private final int maxSpins;
    private final int maxYields;
    private final int timeoutMs;
    private final int threadNice;
    private final EventFdDoorbell doorbell;
    private final long doorbellRevents;
    private ThreadScheduling scheduling;
    private boolean schedulingApplied;
    private int schedulingResult = Integer.MIN_VALUE;
    private int spins;
    private int yields;
    private long polls;

    /**
     * @param fds       the sockets to wait on (AF_XDP or packet sockets); none: parks {@code timeoutMs} instead.
     * @param maxSpins  idle cycles spent spinning before yielding.
     * @param maxYields idle cycles spent yielding before polling.
     * @param timeoutMs longest sleep in poll, ≥ 1.
     */
    public PollingIdleStrategy(final int[] fds, final int maxSpins, final int maxYields, final int timeoutMs)
    {
        this(fds, maxSpins, maxYields, timeoutMs, 0);
    }

    /**
     * @param fds        the sockets to wait on (AF_XDP or packet sockets); none: parks {@code timeoutMs} instead.
     * @param maxSpins   idle cycles spent spinning before yielding.
     * @param maxYields  idle cycles spent yielding before polling.
     * @param timeoutMs  longest sleep in poll, ≥ 1.
     * @param threadNice nice value (-20..19) the first idling thread sets for itself; 0 leaves it as it is.
     */
    public PollingIdleStrategy(final int[] fds, final int maxSpins, final int maxYields, final int timeoutMs, final int threadNice)
    {
        this(fds, maxSpins, maxYields, timeoutMs, threadNice, null);
    }

    /**
     * @param fds        the sockets to wait on (AF_XDP or packet sockets); none: parks {@code timeoutMs} instead, or
     *                   with a {@code doorbell}, polls the doorbell alone (the neighbour resolver).
     * @param maxSpins   idle cycles spent spinning before yielding.
     * @param maxYields  idle cycles spent yielding before polling.
     * @param timeoutMs  longest sleep in poll, ≥ 1.
     * @param threadNice nice value (-20..19) the first idling thread sets for itself; 0 leaves it as it is.
     * @param doorbell   wakes the poll when another forwarder hands this one a frame (or a forwarder asks the resolver
     *                   for a neighbour); null: none (one forwarder).
     */
    public PollingIdleStrategy(final int[] fds, final int maxSpins, final int maxYields, final int timeoutMs, final int threadNice,
        final EventFdDoorbell doorbell)
    {
        if (timeoutMs < 1 || maxSpins < 0 || maxYields < 0)
        {
            throw new IllegalArgumentException("timeoutMs ≥ 1, maxSpins and maxYields ≥ 0: " + timeoutMs + ", " + maxSpins + ", "
                + maxYields);
        }
        this.threadNice = threadNice;
        this.scheduling = new ThreadScheduling(threadNice, 0);
        this.schedulingApplied = scheduling.isDefault();
        this.doorbell = doorbell;
        this.count = fds.length + (doorbell == null ? 0 : 1);
        this.maxSpins = maxSpins;
        this.maxYields = maxYields;
        this.timeoutMs = timeoutMs;
        this.pollFds = Arena.ofAuto().allocate(Libc.POLLFD, Math.max(1, count));
        for (int i = 0; i < count; i++)
        {
            final long base = i * Libc.POLLFD.byteSize();
            pollFds.set(java.lang.foreign.ValueLayout.JAVA_INT, base, i < fds.length ? fds[i] : doorbell.fd());
            pollFds.set(java.lang.foreign.ValueLayout.JAVA_SHORT, base + 4, Libc.POLLIN);
        }
        // struct pollfd { int fd; short events; short revents; }: the doorbell is the last entry
        this.doorbellRevents = (count - 1) * Libc.POLLFD.byteSize() + 6;
    }

    @Override
    public void idle(final int workCount)
    {
        if (!schedulingApplied)
        {
            applyScheduling();
        }
        if (workCount > 0)
        {
            reset();
        }
        else
        {
            idle();
        }
    }

    @Override
    public void idle()
    {
        if (!schedulingApplied)
        {
            applyScheduling();
        }
        if (spins < maxSpins)
        {
            spins++;
            Thread.onSpinWait();
        }
        else if (yields < maxYields)
        {
            yields++;
            Thread.yield();
        }
        else if (count == 0)
        {
            LockSupport.parkNanos(timeoutMs * 1_000_000L);
        }
        else if (doorbell == null)
        {
            polls++;
            Libc.poll(pollFds, count, timeoutMs);
        }
        else if (doorbell.arm())
        {
            polls++;
            final int ready = Libc.poll(pollFds, count, timeoutMs);
            doorbell.disarm(ready > 0 && (pollFds.get(java.lang.foreign.ValueLayout.JAVA_SHORT, doorbellRevents) & Libc.POLLIN)
                != 0);
        }
    }

    @Override
    public void reset()
    {
        spins = 0;
        yields = 0;
    }

    /**
     * One {@link ThreadScheduling#applyToCurrentThread}: only the forwarder's own thread gets its nice and slice. A negative
     * nice needs CAP_SYS_NICE (the node runs as root for AF_XDP anyway); refused, the thread stays as it was, with one
     * warning in the log ({@link #schedulingResult()} says so too).
     */
    private void applyScheduling()
    {
        schedulingApplied = true;
        schedulingResult = scheduling.applyToCurrentThread();
    }

    /**
     * The EEVDF time slice the first idling thread asks for, with its nice, in the same sched_setattr: a shorter slice lets
     * the forwarder preempt sooner when a frame wakes it, with its CPU share unchanged. Call before the thread first idles.
     *
     * @param sliceNanos 0 = the kernel's default, else {@link Libc#MIN_SLICE_NANOS}..{@link Libc#MAX_SLICE_NANOS}.
     * @return this.
     */
    public PollingIdleStrategy threadSliceNanos(final long sliceNanos)
    {
        this.scheduling = new ThreadScheduling(threadNice, sliceNanos);
        this.schedulingApplied = scheduling.isDefault();
        return this;
    }

    /**
     * 0 once the nice and the time slice were set (one sched_setattr), -errno when refused, {@code Integer.MIN_VALUE} before
     * (or when none was asked).
     */
    public int schedulingResult()
    {
        return schedulingResult;
    }

    /** poll(2) calls made (diagnostics). */
    public long polls()
    {
        return polls;
    }

    @Override
    public String alias()
    {
        return "poll";
    }
}
