package io.sluice.fastpath;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Frames waiting for a next hop's MAC: the first frames of a flow to a neighbour the kernel has not resolved yet are
 * held here (bounded, off-heap, one forwarder's) instead of dropped, and processed again once the neighbour resolves —
 * the kernel queues packets for an unresolved neighbour too, and a dropped first SYN costs the client a 1 s
 * retransmission. Slots are fixed-size copies of the untouched frame (the forwarder stops before rewriting when the
 * neighbour is missing); a frame waits at most {@code holdNs}, then counts as a no-neighbour drop. At most
 * {@code perNeighbour} frames wait for one address, so a flood towards a dead neighbour cannot fill the queue.
 * Single-threaded: the forwarder's thread only.
 */
public final class NeighbourQueue
{
    /** Called for each frame whose neighbour resolved: process it again from scratch. */
    @FunctionalInterface
    public interface Resend
    {
        void resend(MutableDirectBuffer buffer, int offset, int length);
    }

    private final int capacity;
    private final int perNeighbour;
    private final long holdNs;
    private final FrameSlots frames;
    private final long[] high;
    private final long[] low;
    private final long[] deadline;
    private int size;
    private boolean draining;

    /**
     * @param capacity     frames held at most.
     * @param perNeighbour frames held for one next hop at most.
     * @param slotSize     largest frame held (longer ones are dropped as before).
     * @param holdNs       how long a frame waits for its neighbour.
     */
    public NeighbourQueue(final int capacity, final int perNeighbour, final int slotSize, final long holdNs)
    {
        this.capacity = capacity;
        this.perNeighbour = perNeighbour;
        this.holdNs = holdNs;
        this.frames = new FrameSlots(capacity, slotSize);
        this.high = new long[capacity];
        this.low = new long[capacity];
        this.deadline = new long[capacity];
    }

    /** @return true when the frame was queued; false (full, too long, too many for this neighbour): drop it. */
    public boolean offer(final long nextHopHigh, final long nextHopLow, final DirectBuffer buffer, final int offset,
        final int frameLength, final long nowNs)
    {
        if (draining || size == capacity || !frames.fits(frameLength))
        {
            return false;
        }
        int waiting = 0;
        for (int i = 0; i < size; i++)
        {
            if (high[i] == nextHopHigh && low[i] == nextHopLow && ++waiting >= perNeighbour)
            {
                return false;
            }
        }
        frames.put(size, buffer, offset, frameLength);
        high[size] = nextHopHigh;
        low[size] = nextHopLow;
        deadline[size] = nowNs + holdNs;
        size++;
        return true;
    }

    public int size()
    {
        return size;
    }

    /**
     * Resends every frame whose neighbour now has a MAC and drops those that waited too long, in arrival order.
     *
     * @return frames resent plus frames expired (work done).
     */
    public int drain(final NeighbourTable neighbours, final long nowNs, final Resend resend, final Runnable onExpired)
    {
        if (size == 0)
        {
            return 0;
        }
        int kept = 0;
        int work = 0;
        final int n = size;
        // Compacting in place: slot i moves down to slot kept when an earlier one left. A resent frame that misses
        // another neighbour is dropped, not queued again (offer refuses while draining).
        draining = true;
        for (int i = 0; i < n; i++)
        {
            if (neighbours.nextHopMac(high[i], low[i]) != NeighbourTable.NO_MAC)
            {
                resend.resend(frames.buffer(), frames.offset(i), frames.length(i));
                work++;
            }
            else if (nowNs - deadline[i] >= 0)
            {
                onExpired.run();
                work++;
            }
            else
            {
                if (kept != i)
                {
                    frames.move(i, kept);
                    high[kept] = high[i];
                    low[kept] = low[i];
                    deadline[kept] = deadline[i];
                }
                kept++;
            }
        }
        draining = false;
        size = kept;
        return work;
    }
}
