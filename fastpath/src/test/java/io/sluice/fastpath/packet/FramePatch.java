package io.sluice.fastpath.packet;

import java.nio.ByteOrder;
import java.util.Arrays;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * Test helper: edits a built frame in place (a field, an insertion) and recomputes the checksums that edit would
 * otherwise break, so a test breaks exactly one thing. Offsets are found by walking the frame as the forwarder does.
 */
public final class FramePatch
{
    private byte[] frame;

    private FramePatch(final byte[] frame)
    {
        this.frame = frame.clone();
    }

    public static FramePatch of(final byte[] frame)
    {
        return new FramePatch(frame);
    }

    public byte[] frame()
    {
        return frame.clone();
    }

    public int l3()
    {
        final UnsafeBuffer b = new UnsafeBuffer(frame);
        return b.getShort(12, ByteOrder.BIG_ENDIAN) == (short)EthernetFlyweight.ETHER_TYPE_VLAN ? 18 : 14;
    }

    public boolean v4()
    {
        return (frame[l3()] >> 4 & 0xF) == 4;
    }

    public int l4()
    {
        return l3() + (v4() ? (frame[l3()] & 0xF) * 4 : Ipv6Flyweight.HEADER_LENGTH);
    }

    public FramePatch putByte(final int index, final int value)
    {
        frame[index] = (byte)value;
        return this;
    }

    public FramePatch putShort(final int index, final int value)
    {
        new UnsafeBuffer(frame).putShort(index, (short)value, ByteOrder.BIG_ENDIAN);
        return this;
    }

    /** Inserts bytes at {@code index}, growing the frame (lengths are not adjusted). */
    public FramePatch insert(final int index, final byte[] bytes)
    {
        final byte[] grown = Arrays.copyOf(frame, frame.length + bytes.length);
        System.arraycopy(frame, index, grown, index + bytes.length, frame.length - index);
        System.arraycopy(bytes, 0, grown, index, bytes.length);
        frame = grown;
        return this;
    }

    public FramePatch truncate(final int length)
    {
        frame = Arrays.copyOf(frame, length);
        return this;
    }

    public FramePatch fixIpv4Checksum()
    {
        new Ipv4Flyweight().wrap(new UnsafeBuffer(frame), l3()).computeChecksum();
        return this;
    }

    /** Recomputes the L4 checksum (TCP, UDP, ICMP, ICMPv6) over the IP payload. */
    public FramePatch fixL4Checksum()
    {
        final UnsafeBuffer b = new UnsafeBuffer(frame);
        final int l3 = l3();
        final int l4 = l4();
        final int protocol;
        final int l4Length;
        final long pseudo;
        if (v4())
        {
            final Ipv4Flyweight ip = new Ipv4Flyweight().wrap(b, l3);
            protocol = ip.protocol();
            l4Length = ip.totalLength() - ip.headerLength();
            pseudo = protocol == 1 ? 0 : Checksums.pseudoHeaderV4(ip.source(), ip.destination(), protocol, l4Length);
        }
        else
        {
            final Ipv6Flyweight ip = new Ipv6Flyweight().wrap(b, l3);
            protocol = ip.nextHeader();
            l4Length = ip.payloadLength();
            pseudo = Checksums.pseudoHeaderV6(ip.sourceHigh(), ip.sourceLow(), ip.destinationHigh(), ip.destinationLow(),
                protocol, l4Length);
        }
        final int at = l4 + (protocol == 6 ? TcpFlyweight.CHECKSUM_OFFSET : protocol == 17 ? UdpFlyweight.CHECKSUM_OFFSET : 2);
        b.putShort(at, (short)0);
        int checksum = Checksums.finish(Checksums.sum(b, l4, l4Length, pseudo));
        if (checksum == 0 && protocol == 17)
        {
            checksum = 0xFFFF;
        }
        b.putShort(at, (short)checksum, ByteOrder.BIG_ENDIAN);
        return this;
    }
}
