package io.sluice.nativeio.packet;

import java.lang.foreign.MemorySegment;

/**
 * Raw Ethernet frame I/O on one interface queue, whatever the kernel facility behind it: AF_XDP
 * ({@link XskPacketIo}) where XDP attaches, AF_PACKET TPACKET_V3 ({@link AfPacketSocket}) where it cannot.
 * Batch-oriented, no allocation per frame, one thread per instance.
 */
public interface PacketIo extends AutoCloseable
{
    /** Hand up to {@code limit} received frames to {@code handler}; returns how many (0 when none is ready). */
    int receive(FrameHandler handler, int limit);

    /**
     * Queue a copy of {@code length} bytes at {@code offset} of {@code frame} for sending.
     *
     * @return false when there is no room now (flush, reap and try again).
     */
    boolean send(MemorySegment frame, long offset, int length);

    /** Push queued frames to the kernel; returns how many were pushed, or -errno. */
    int flush();

    /** @return a descriptor that poll(2) reports readable when frames wait, or -1 (an idle forwarder sleeps on it). */
    default int pollFd()
    {
        return -1;
    }

    /** @return a name for logs and counters: "af_xdp" or "af_packet". */
    String kind();

    @Override
    void close();
}
