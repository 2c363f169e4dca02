package io.sluice.fastpath.io;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import io.sluice.fastpath.PacketPort;
import io.sluice.nativeio.packet.PacketIo;

/**
 * A forwarder's {@link PacketPort} over native-bindings' {@link PacketIo}: AF_XDP ({@code XskPacketIo}, one socket
 * per rx queue) where XDP attaches, AF_PACKET where it cannot. Each received frame is viewed in place (UMEM or packet
 * ring) through one reused {@link UnsafeBuffer}, rewritten by the forwarder and queued for transmission as a copy into a
 * tx frame ({@code PacketIo.send}: one copy, from wherever the frame sits); every poll flushes, so frames queued by
 * another port's poll leave in the same or the next duty cycle, and {@link #poll} counts them as work. Copy mode is what veths give anyway; driving the XSK rings of one
 * shared UMEM directly would save the copy on NICs with zero-copy support.
 */
public final class PacketIoPort implements PacketPort, AutoCloseable
{
    private static final int MAX_FRAME = 16 * 1024;
    /** The whole address space as one segment, so an off-heap source is addressed without a segment per frame. */
    private static final MemorySegment ALL_MEMORY = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private final PacketIo io;
    private final long mac;
    private final UnsafeBuffer view = new UnsafeBuffer(new byte[0]);
    private final Arena arena = Arena.ofShared();
    private final MemorySegment scratch = arena.allocate(MAX_FRAME, 64);
    private final UnsafeBuffer scratchBuffer = new UnsafeBuffer(scratch.address(), MAX_FRAME);
    private final io.sluice.nativeio.packet.FrameHandler onReceive = this::onReceive;
    private FrameHandler handler;
    private long txFull;
    private long flushErrors;

    /**
     * @param io  the frame I/O of one queue (owned by this port from now on: {@link #close()} closes it).
     * @param mac the interface's MAC address (low 48 bits), the source MAC of everything sent.
     */
    public PacketIoPort(final PacketIo io, final long mac)
    {
        this.io = io;
        this.mac = mac;
    }

    @Override
    public int poll(final FrameHandler frameHandler, final int limit)
    {
        handler = frameHandler;
        final int received = io.receive(onReceive, limit);
        // Every poll, not only when this poll queued frames: frames other ports queued here (a FullNAT flow enters by
        // one interface and leaves by another) and frames the kernel has not taken yet are pushed out now.
        final int flushed = io.flush();
        if (flushed < 0)
        {
            flushErrors++;
            return received;
        }
        // Frames pushed out are work too: a reply's frames, queued here by the other port's poll, leave in the next
        // duty cycle, which would otherwise count as idle. In copy mode that kick is the costliest part of forwarding
        // (the veth transmit and the receiver's softirq run inside it), so the duty-cycle work time must include it,
        // and the idle strategy must not back off right after it (the kick often brings the answer back at once).
        return received + flushed;
    }

    @Override
    public boolean send(final DirectBuffer buffer, final int offset, final int length)
    {
        if (length > MAX_FRAME)
        {
            return false;
        }
        final boolean sent;
        if (buffer.byteArray() == null)
        {
            // Off-heap (another port's UMEM frame, a hand-off ring): one copy, straight into a tx frame.
            sent = io.send(ALL_MEMORY, buffer.addressOffset() + offset, length);
        }
        else
        {
            scratchBuffer.putBytes(0, buffer, offset, length);
            sent = io.send(scratch, 0, length);
        }
        if (!sent)
        {
            txFull++;
            return false;
        }
        return true;
    }

    @Override
    public long macAddress()
    {
        return mac;
    }

    /** @return the socket an idle forwarder can poll(2) for frames, or -1 ({@link PollingIdleStrategy}). */
    public int pollFd()
    {
        return io.pollFd();
    }

    /** Frames the forwarder wanted sent but the tx ring had no room for. */
    public long txFull()
    {
        return txFull;
    }

    public long flushErrors()
    {
        return flushErrors;
    }

    @Override
    public void close()
    {
        io.close();
        arena.close();
    }

    /** MAC from the six bytes netlink reports. */
    public static long mac(final byte[] bytes)
    {
        long value = 0;
        for (int i = 0; i < 6; i++)
        {
            value = (value << 8) | (bytes[i] & 0xFF);
        }
        return value;
    }


    private void onReceive(final MemorySegment memory, final long offset, final int length)
    {
        view.wrap(memory.address() + offset, length);
        final int out = handler.onFrame(view, 0, length);
        if (out >= 0)
        {
            if (!io.send(memory, offset, out))
            {
                txFull++;
            }
        }
    }
}
