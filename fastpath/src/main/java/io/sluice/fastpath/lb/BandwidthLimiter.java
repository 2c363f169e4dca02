package io.sluice.fastpath.lb;

import io.sluice.fastpath.FrameSlots;
import io.sluice.fastpath.PacketPort;
import org.agrona.DirectBuffer;

import java.util.Arrays;

/**
 * One forwarder's bandwidth shaper for the outbound direction. A frame towards a client that its buckets
 * ({@link ListenerBandwidth}) cannot pay for now waits in a short per-listener FIFO (at most
 * {@link ListenerBandwidth#QUEUE_NS} of the rate) and leaves, in order, as soon as the buckets refill; only beyond
 * that queue is it dropped. Why not a pure policer: on a short round trip TCP sends whole windows far above the rate;
 * a tail-drop policer then drops whole windows, the retransmissions find the bucket empty too and TCP waits for its
 * retransmission timer (≥ 200 ms, an idle bucket) — a bulk transfer got ~43 % of the peak. A short queue turns the
 * excess into delay that TCP's ACK clock follows, and losses into single tail drops that fast retransmit repairs.
 * <p>
 * Frames are copied (already rewritten) into a fixed pool of {@link #SLOT_BYTES}-byte {@link FrameSlots}; queues
 * are intrusive lists of slot indexes by listener id; only listeners with a waiting frame are visited per duty cycle.
 * Single writer (the forwarder), no allocation after construction.
 */
public final class BandwidthLimiter
{
    /** Largest frame that can wait (a 1500-byte MTU frame with VLAN tag fits); larger ones are dropped when over. */
    public static final int SLOT_BYTES = 2048;
    public static final int DEFAULT_SLOTS = 1024;

    /** What {@link #admit} decided. */
    public static final int PASS = 0;
    public static final int HOLD = 1;
    public static final int DROP = 2;

    private static final int NONE = -1;

    private final FrameSlots pool;
    private final int[] next;
    private final int[] ipLength;
    private final int[] egress;
    private final int[] head;
    private final int[] tail;
    private final long[] queuedBytes;
    private final int[] active;
    private int activeCount;
    private int freeHead;
    private int freeCount;
    private int waiting;

    public BandwidthLimiter(final int slots, final int maxListenerIds)
    {
        pool = new FrameSlots(slots, SLOT_BYTES);
        next = new int[slots];
        ipLength = new int[slots];
        egress = new int[slots];
        head = new int[maxListenerIds];
        tail = new int[maxListenerIds];
        queuedBytes = new long[maxListenerIds];
        active = new int[Math.min(slots, maxListenerIds)];
        Arrays.fill(head, NONE);
        Arrays.fill(tail, NONE);
        for (int i = 0; i < slots; i++)
        {
            next[i] = i + 1 < slots ? i + 1 : NONE;
        }
        freeHead = slots > 0 ? 0 : NONE;
        freeCount = slots;
    }

    /**
     * Decides an outbound frame of {@code ipBytes} IP bytes: {@link #PASS} (paid for, send it now), {@link #HOLD}
     * (room in the listener's queue: rewrite it and call {@link #enqueue}) or {@link #DROP}. A listener whose queue
     * is not empty never passes a new frame ahead of it.
     */
    public int admit(final ListenerState listener, final long nowNs, final int frameBytes, final int ipBytes)
    {
        final ListenerBandwidth bw = listener.bandwidth;
        final int id = listener.id;
        if (head[id] == NONE && bw.tryTake(nowNs, ipBytes))
        {
            return PASS;
        }
        if (freeCount == 0 || !pool.fits(frameBytes) || queuedBytes[id] + ipBytes > bw.queueLimitBytes())
        {
            return DROP;
        }
        return HOLD;
    }

    /** Queues a frame {@link #admit} said {@link #HOLD} to (a copy: the caller's buffer is recycled). */
    public void enqueue(final int listenerId, final DirectBuffer buffer, final int offset, final int length,
        final int ipBytes, final int egressPort)
    {
        final int slot = freeHead;
        freeHead = next[slot];
        freeCount--;
        pool.put(slot, buffer, offset, length);
        ipLength[slot] = ipBytes;
        egress[slot] = egressPort;
        next[slot] = NONE;
        if (head[listenerId] == NONE)
        {
            head[listenerId] = slot;
            active[activeCount++] = listenerId;
        }
        else
        {
            next[tail[listenerId]] = slot;
        }
        tail[listenerId] = slot;
        queuedBytes[listenerId] += ipBytes;
        waiting++;
    }

    /**
     * Sends waiting frames the buckets can now pay for, in order per listener, at most {@code limit}. Queues of
     * listeners gone from {@code tables} are discarded. @return frames sent.
     */
    public int release(final long nowNs, final ListenerTable tables, final PacketPort[] ports, final int limit)
    {
        if (waiting == 0)
        {
            return 0;
        }
        int sent = 0;
        for (int i = 0; i < activeCount && sent < limit; )
        {
            final int id = active[i];
            final ListenerState listener = tables.listenerById(id);
            final ListenerBandwidth bw = listener == null ? null : listener.bandwidth;
            while (head[id] != NONE && sent < limit)
            {
                final int slot = head[id];
                final boolean pay = bw != null && bw.limited();
                if (pay && !bw.tryTake(nowNs, ipLength[slot]))
                {
                    break;
                }
                if (bw != null)
                {
                    if (!ports[egress[slot]].send(pool.buffer(), pool.offset(slot), pool.length(slot)))
                    {
                        if (pay)
                        {
                            bw.giveBack(ipLength[slot]);
                        }
                        break;
                    }
                    sent++;
                }
                // Sent, or its listener is gone: the slot goes back to the pool either way.
                dequeue(id, slot);
            }
            if (head[id] == NONE)
            {
                active[i] = active[--activeCount];
            }
            else
            {
                i++;
            }
        }
        return sent;
    }

    private void dequeue(final int id, final int slot)
    {
        head[id] = next[slot];
        if (head[id] == NONE)
        {
            tail[id] = NONE;
        }
        queuedBytes[id] -= ipLength[slot];
        next[slot] = freeHead;
        freeHead = slot;
        freeCount++;
        waiting--;
    }

    /** Frames waiting now. */
    public int waiting()
    {
        return waiting;
    }

    /** Bytes waiting in a listener's queue. */
    public long queuedBytes(final int listenerId)
    {
        return queuedBytes[listenerId];
    }
}
