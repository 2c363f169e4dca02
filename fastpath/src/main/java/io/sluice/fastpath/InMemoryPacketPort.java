package io.sluice.fastpath;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A {@link PacketPort} over memory, for tests and benchmarks: frames injected with {@link #inject} are received by
 * the next {@link #poll}; transmitted frames are collected for {@link #drainTransmitted}. Frames live in fixed
 * 2 KiB slots of one buffer, like UMEM chunks.
 * <p>
 * Transmission follows {@code io.PacketIoPort} over AF_XDP: a frame the handler keeps and a frame {@link #send} queues
 * (another port's frame leaving by this one) wait, as in a tx ring, until the end of this port's next poll pushes them
 * out; poll returns the frames it received plus the frames it pushed out, so a duty cycle that only flushed counts as
 * work here as it does there. Each frame sent is copied out to a new array (the test side reads them later); receiving
 * allocates nothing.
 */
public final class InMemoryPacketPort implements PacketPort
{
    public static final int FRAME_SIZE = 2048;

    private final long mac;
    private final UnsafeBuffer umem;
    private final int slots;
    private final ConcurrentLinkedQueue<byte[]> rx = new ConcurrentLinkedQueue<>();
    /** Sent, not pushed out yet (the tx ring before the kick); the forwarder's thread only. */
    private final ArrayDeque<byte[]> queued = new ArrayDeque<>();
    /** Pushed out, for the test side. */
    private final ConcurrentLinkedQueue<byte[]> tx = new ConcurrentLinkedQueue<>();
    private final int[] batchLengths;
    private long received;
    private long transmitted;

    public InMemoryPacketPort(final long mac, final int batchSlots)
    {
        this.mac = mac;
        this.slots = batchSlots;
        this.umem = new UnsafeBuffer(new byte[FRAME_SIZE * batchSlots]);
        this.batchLengths = new int[batchSlots];
    }

    public void inject(final byte[] frame)
    {
        if (frame.length > FRAME_SIZE)
        {
            throw new IllegalArgumentException("frame longer than " + FRAME_SIZE);
        }
        rx.add(frame.clone());
    }

    public List<byte[]> drainTransmitted()
    {
        final List<byte[]> out = new ArrayList<>();
        byte[] f;
        while ((f = tx.poll()) != null)
        {
            out.add(f);
        }
        return out;
    }

    public boolean hasPendingRx()
    {
        return !rx.isEmpty();
    }

    public long received()
    {
        return received;
    }

    public long transmitted()
    {
        return transmitted;
    }

    @Override
    public int poll(final FrameHandler handler, final int limit)
    {
        final int max = Math.min(limit, slots);
        int n = 0;
        byte[] frame;
        while (n < max && (frame = rx.poll()) != null)
        {
            umem.putBytes(n * FRAME_SIZE, frame);
            batchLengths[n] = frame.length;
            n++;
        }
        for (int i = 0; i < n; i++)
        {
            batchLengths[i] = handler.onFrame(umem, i * FRAME_SIZE, batchLengths[i]);
        }
        for (int i = 0; i < n; i++)
        {
            if (batchLengths[i] >= 0)
            {
                final byte[] out = new byte[batchLengths[i]];
                umem.getBytes(i * FRAME_SIZE, out);
                queued.add(out);
            }
        }
        received += n;
        return n + flush();
    }

    /** Every poll, as PacketIoPort's: frames other ports queued here since the last poll leave too. */
    private int flush()
    {
        int flushed = 0;
        byte[] frame;
        while ((frame = queued.poll()) != null)
        {
            tx.add(frame);
            flushed++;
        }
        transmitted += flushed;
        return flushed;
    }

    @Override
    public boolean send(final DirectBuffer buffer, final int offset, final int length)
    {
        final byte[] out = new byte[length];
        buffer.getBytes(offset, out);
        queued.add(out);
        return true;
    }

    @Override
    public long macAddress()
    {
        return mac;
    }
}
