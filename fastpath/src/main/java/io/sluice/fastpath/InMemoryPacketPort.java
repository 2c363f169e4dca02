package io.sluice.fastpath;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A {@link PacketPort} over memory, for tests and benchmarks: frames injected with {@link #inject} are received by
 * the next {@link #poll}; transmitted frames are collected for {@link #drainTransmitted}. Frames live in fixed
 * 2 KiB slots of one buffer, like UMEM chunks. The test-side calls (inject, drain) allocate; poll does not.
 */
public final class InMemoryPacketPort implements PacketPort
{
    public static final int FRAME_SIZE = 2048;

    private final long mac;
    private final UnsafeBuffer umem;
    private final int slots;
    private final ConcurrentLinkedQueue<byte[]> rx = new ConcurrentLinkedQueue<>();
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
                tx.add(out);
                transmitted++;
            }
        }
        received += n;
        return n;
    }

    @Override
    public boolean send(final DirectBuffer buffer, final int offset, final int length)
    {
        final byte[] out = new byte[length];
        buffer.getBytes(offset, out);
        tx.add(out);
        transmitted++;
        return true;
    }

    @Override
    public long macAddress()
    {
        return mac;
    }
}
