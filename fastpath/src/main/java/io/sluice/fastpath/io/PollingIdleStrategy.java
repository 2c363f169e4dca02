package io.sluice.fastpath.io;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.locks.LockSupport;

import org.agrona.concurrent.IdleStrategy;

import io.sluice.nativeio.Libc;

/**
 * A forwarder's idle strategy for profiles that must not burn a core: spin, yield, then sleep in {@code poll(2)} on
 * the forwarder's sockets instead of a timed park, so a frame that arrives while the forwarder sleeps wakes it at once
 * (AF_XDP sockets signal readability when the rx ring gets frames). A timed park sleeps its whole period — at least the
 * kernel's 50 µs timer slack even for a 1 µs park — and every TCP handshake through sluice crossed that delay three
 * times: new connections per second were bound by forwarder wake-up latency, not by work.
 * <p>
 * The poll timeout ({@code maxParkMs}) still bounds how late the forwarder sees what does not signal a socket:
 * frames handed off by another forwarder, a new table generation, session expiry.
 */
public final class PollingIdleStrategy implements IdleStrategy
{
    private final MemorySegment pollFds;
    private final int count;
    private final int maxSpins;
    private final int maxYields;
    private final int timeoutMs;
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
        if (timeoutMs < 1 || maxSpins < 0 || maxYields < 0)
        {
            throw new IllegalArgumentException("timeoutMs ≥ 1, maxSpins and maxYields ≥ 0: " + timeoutMs + ", " + maxSpins
                + ", " + maxYields);
        }
        this.count = fds.length;
        this.maxSpins = maxSpins;
        this.maxYields = maxYields;
        this.timeoutMs = timeoutMs;
        this.pollFds = Arena.ofAuto().allocate(Libc.POLLFD, Math.max(1, fds.length));
        for (int i = 0; i < fds.length; i++)
        {
            final long base = i * Libc.POLLFD.byteSize();
            pollFds.set(java.lang.foreign.ValueLayout.JAVA_INT, base, fds[i]);
            pollFds.set(java.lang.foreign.ValueLayout.JAVA_SHORT, base + 4, Libc.POLLIN);
        }
    }

    @Override
    public void idle(final int workCount)
    {
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
        else
        {
            polls++;
            Libc.poll(pollFds, count, timeoutMs);
        }
    }

    @Override
    public void reset()
    {
        spins = 0;
        yields = 0;
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
