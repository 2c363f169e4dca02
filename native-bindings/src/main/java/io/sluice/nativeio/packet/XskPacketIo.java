package io.sluice.nativeio.packet;

import io.sluice.nativeio.xdp.Umem;
import io.sluice.nativeio.xdp.XskRing;
import io.sluice.nativeio.xdp.XskSocket;

import java.lang.foreign.MemorySegment;

/**
 * {@link PacketIo} over one AF_XDP socket that owns its UMEM: the lower half of the frames cycles through the fill and
 * rx rings, the upper half is a free list for transmission, returned by the completion ring. {@link #send} copies
 * the frame into a free tx frame (forwarders that want zero copy drive the rings of {@link XskSocket} directly).
 */
public final class XskPacketIo implements PacketIo
{
    /** Frames the kernel transmits per kick in copy mode ({@code TX_BATCH_SIZE} in net/xdp/xsk.c). */
    static final int COPY_MODE_TX_BUDGET = 32;

    private final XskSocket xsk;
    private final Umem umem;
    private final MemorySegment memory;
    private final XskRing rx;
    private final XskRing tx;
    private final XskRing fill;
    private final XskRing completion;
    private final long[] freeTx;
    private int freeCount;
    private final int maxKicksPerFlush;
    private int queued;
    private long kicksMade;

    public XskPacketIo(final XskSocket xsk)
    {
        this.xsk = xsk;
        this.umem = xsk.umem();
        this.memory = umem.segment();
        this.rx = xsk.rx();
        this.tx = xsk.tx();
        this.fill = xsk.fill();
        this.completion = xsk.completion();
        this.maxKicksPerFlush = tx.size() / COPY_MODE_TX_BUDGET + 1;
        final int rxFrames = Math.min(umem.frameCount() / 2, fill.size());
        if (fill.reserve(rxFrames) != rxFrames)
        {
            throw new IllegalStateException("fill ring refused " + rxFrames + " frames");
        }
        for (int i = 0; i < rxFrames; i++)
        {
            fill.address(fill.index() + i, umem.frameAddress(i));
        }
        fill.submit(rxFrames);
        freeTx = new long[umem.frameCount() - rxFrames];
        for (int i = rxFrames; i < umem.frameCount(); i++)
        {
            freeTx[freeCount++] = umem.frameAddress(i);
        }
    }

    @Override
    public int receive(final FrameHandler handler, final int limit)
    {
        final int n = rx.peek(limit);
        if (n == 0)
        {
            if (xsk.usesNeedWakeup() && fill.needsWakeup())
            {
                xsk.wakeupRx();
            }
            return 0;
        }
        final int first = rx.index();
        for (int i = 0; i < n; i++)
        {
            handler.onFrame(memory, rx.descAddress(first + i), rx.descLength(first + i));
        }
        // Every rx frame goes straight back to the fill ring: the ring can hold all of them.
        while (fill.reserve(n) != n)
        {
            Thread.onSpinWait();
        }
        for (int i = 0; i < n; i++)
        {
            fill.address(fill.index() + i, rx.descAddress(first + i));
        }
        rx.release(n);
        fill.submit(n);
        return n;
    }

    private void reapCompletions()
    {
        final int done = completion.peek(freeTx.length);
        for (int i = 0; i < done; i++)
        {
            freeTx[freeCount++] = completion.address(completion.index() + i);
        }
        if (done > 0)
        {
            completion.release(done);
        }
    }

    @Override
    public boolean send(final MemorySegment frame, final long offset, final int length)
    {
        if (length > umem.frameSize())
        {
            return false;
        }
        if (freeCount == 0)
        {
            reapCompletions();
            if (freeCount == 0)
            {
                return false;
            }
        }
        if (tx.reserve(1) != 1)
        {
            // Full: push what is queued through the kernel now rather than drop (copy mode sends inside the kick).
            if (queued > 0)
            {
                tx.submit(queued);
                queued = 0;
            }
            drainTx();
            reapCompletions();
            if (freeCount == 0 || tx.reserve(1) != 1)
            {
                return false;
            }
        }
        final long address = freeTx[--freeCount];
        MemorySegment.copy(frame, offset, memory, address, length);
        tx.desc(tx.index(), address, length, 0);
        queued++;
        return true;
    }

    @Override
    public int flush()
    {
        final int n = queued;
        if (n > 0)
        {
            tx.submit(n);
            queued = 0;
        }
        if (n > 0 || tx.outstanding() > 0)
        {
            final int rc = drainTx();
            if (rc < 0)
            {
                reapCompletions();
                return rc;
            }
        }
        reapCompletions();
        return n;
    }

    /**
     * Kicks until the kernel has taken every submitted tx descriptor. In copy mode the kernel transmits inside the
     * kick, at most a budget of frames per call (32 by default: {@code TX_BATCH_SIZE} of xsk.c), and answers EAGAIN
     * when more are left: a single kick per batch left the rest in the ring until the next batch for this interface,
     * so a forwarder receiving 64 frames per poll filled the tx ring and dropped half of them (drop.tx_full). The
     * number of kicks is bounded by the ring size over the budget; ENOBUFS/EBUSY (device queue full) end the loop,
     * the frames stay queued for the next flush.
     */
    private int drainTx()
    {
        for (int kicks = 0; kicks < maxKicksPerFlush; kicks++)
        {
            if (!xsk.txNeedsKick())
            {
                return 0;
            }
            final int rc = xsk.kickTx();
            kicksMade++;
            if (rc == -io.sluice.nativeio.Errno.EAGAIN)
            {
                // more left (budget used up), or the completion ring was full: make room and go on
                reapCompletions();
                if (tx.outstanding() == 0)
                {
                    return 0;
                }
                continue;
            }
            if (rc < 0 && rc != -io.sluice.nativeio.Errno.EBUSY && rc != -io.sluice.nativeio.Errno.ENOBUFS)
            {
                return rc;
            }
            // sent everything (copy mode) or handed to the driver (zero-copy, which completes asynchronously)
            return 0;
        }
        return 0;
    }

    /** tx kicks (sendto calls) made so far: with {@link #flush()} counts, the syscalls per frame. */
    public long kicks()
    {
        return kicksMade;
    }

    @Override
    public String kind()
    {
        return "af_xdp";
    }

    /** Closes the socket (not the UMEM: its owner closes it). */
    @Override
    public void close()
    {
        xsk.close();
    }
}
