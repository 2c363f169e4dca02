package io.sluice.perf.jmh.fastpath;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteOrder;

import org.agrona.concurrent.UnsafeBuffer;

import io.sluice.fastpath.packet.Checksums;
import io.sluice.fastpath.packet.EthernetFlyweight;
import io.sluice.fastpath.packet.Ipv4Flyweight;

/**
 * A batch of IPv4 TCP/UDP frames prepared outside the measured code, the way an rx ring holds them: the forwarder
 * rewrites frames in place, so each measured batch needs fresh copies, and a copy per operation inside the measured
 * method (plus the checksum fix-up a changed source address needs) would be counted as forwarding. Preparing a whole
 * batch in a {@code Level.Invocation} setup keeps that work out of both the JMH score and the CPU figure, which is
 * read around the batch ({@link #cpuNs}): one thread-CPU clock read per batch, under 1 ns per frame at 1024 frames.
 */
final class FrameBatch
{
    /** Frames per batch: enough to amortise the two CPU clock reads, few enough that the frames stay in L2. */
    static final int FRAMES = 1024;
    /** Distance between frames, like two cache lines of an rx ring's frames. */
    static final int STRIDE = 128;

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final int IP = EthernetFlyweight.HEADER_LENGTH;

    final UnsafeBuffer buffer = new UnsafeBuffer(new byte[FRAMES * STRIDE]);
    final int[] lengths = new int[FRAMES];
    private final Ipv4Flyweight ipv4 = new Ipv4Flyweight();

    /**
     * Frame {@code i} := template with source address and port replaced, IPv4 header and L4 checksums recomputed in
     * full (the forwarder verifies both before anything else, so a frame with a stale checksum is dropped as malformed).
     */
    void prepare(final int i, final byte[] template, final int sourceAddress, final int sourcePort)
    {
        final int offset = i * STRIDE;
        final int length = template.length;
        buffer.putBytes(offset, template);
        lengths[i] = length;
        ipv4.wrap(buffer, offset + IP).source(sourceAddress).computeChecksum();
        final int l4 = offset + Frames.L4_OFFSET;
        final int l4Length = length - Frames.L4_OFFSET;
        final int protocol = ipv4.protocol();
        final int checksumAt = l4 + (protocol == Ipv4Flyweight.PROTOCOL_TCP ? 16 : 6);
        buffer.putShort(l4, (short)sourcePort, ByteOrder.BIG_ENDIAN);
        buffer.putShort(checksumAt, (short)0);
        int checksum = Checksums.finish(Checksums.sum(buffer, l4, l4Length,
            Checksums.pseudoHeaderV4(sourceAddress, ipv4.destination(), protocol, l4Length)));
        if (protocol == Ipv4Flyweight.PROTOCOL_UDP && checksum == 0)
        {
            checksum = 0xFFFF;
        }
        buffer.putShort(checksumAt, (short)checksum, ByteOrder.BIG_ENDIAN);
    }

    static int offset(final int i)
    {
        return i * STRIDE;
    }

    static long cpuNs()
    {
        return THREADS.getCurrentThreadCpuTime();
    }
}
