package io.sluice.fastpath;

import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Fixed-size slots holding copies of frames a forwarder keeps for later (waiting for a neighbour, for bandwidth, for a
 * backend's SYN-ACK): one off-heap buffer allocated once, cache-line aligned, and each slot's frame length (0: empty).
 * How slots are chosen and ordered is the holder's (a compacting FIFO, a free list, a ring). Single writer, no
 * allocation after construction.
 */
public final class FrameSlots
{
    private final int slotBytes;
    private final UnsafeBuffer frames;
    private final int[] lengths;

    /**
     * @param slots     how many frames can be held.
     * @param slotBytes the longest frame a slot holds.
     */
    public FrameSlots(final int slots, final int slotBytes)
    {
        this.slotBytes = slotBytes;
        this.frames = new UnsafeBuffer(BufferUtil.allocateDirectAligned(Math.max(1, slots * slotBytes), 64));
        this.lengths = new int[slots];
    }

    /** @return true when a frame of {@code length} bytes fits a slot. */
    public boolean fits(final int length)
    {
        return length <= slotBytes;
    }

    /** Copies a frame (at most the slot size: check {@link #fits}) into {@code slot}. */
    public void put(final int slot, final DirectBuffer buffer, final int offset, final int length)
    {
        frames.putBytes(slot * slotBytes, buffer, offset, length);
        lengths[slot] = length;
    }

    /** Moves the frame of slot {@code from} to slot {@code to} (which it overwrites); {@code from} keeps its copy. */
    public void move(final int from, final int to)
    {
        frames.putBytes(to * slotBytes, frames, from * slotBytes, lengths[from]);
        lengths[to] = lengths[from];
    }

    /** @return the length of the frame in {@code slot}, 0 when empty. */
    public int length(final int slot)
    {
        return lengths[slot];
    }

    /** Empties {@code slot}. */
    public void clear(final int slot)
    {
        lengths[slot] = 0;
    }

    /** The buffer all slots live in; a slot's frame starts at {@link #offset}. */
    public UnsafeBuffer buffer()
    {
        return frames;
    }

    public int offset(final int slot)
    {
        return slot * slotBytes;
    }
}
