package io.sluice.perf.jmh.fastpath;

import org.agrona.concurrent.UnsafeBuffer;

import io.sluice.fastpath.packet.Checksums;
import io.sluice.fastpath.packet.EthernetFlyweight;
import io.sluice.fastpath.packet.Ipv4Flyweight;
import io.sluice.fastpath.packet.TcpFlyweight;
import io.sluice.fastpath.packet.UdpFlyweight;

/** Minimal IPv4 frame construction for the benchmarks (the fluent builder lives in the fastpath tests). */
final class Frames
{
    static final long CLIENT_MAC = 0x02_00_00_00_00_01L;
    static final long LB_MAC = 0x02_00_00_00_00_10L;
    static final int L4_OFFSET = EthernetFlyweight.HEADER_LENGTH + Ipv4Flyweight.MIN_HEADER_LENGTH;

    private Frames()
    {
    }

    static int ip(final int a, final int b, final int c, final int d)
    {
        return (a << 24) | (b << 16) | (c << 8) | d;
    }

    static byte[] tcp(final int src, final int srcPort, final int dst, final int dstPort, final int flags, final int payload)
    {
        final int l4Length = TcpFlyweight.MIN_HEADER_LENGTH + payload;
        final UnsafeBuffer b = new UnsafeBuffer(new byte[L4_OFFSET + l4Length]);
        header(b, src, dst, Ipv4Flyweight.PROTOCOL_TCP, l4Length);
        new TcpFlyweight().wrap(b, L4_OFFSET).sourcePort(srcPort).destinationPort(dstPort).sequence(1)
            .headerLength(TcpFlyweight.MIN_HEADER_LENGTH).flags(flags).window(65535);
        final int c = Checksums.finish(Checksums.sum(b, L4_OFFSET, l4Length,
            Checksums.pseudoHeaderV4(src, dst, Ipv4Flyweight.PROTOCOL_TCP, l4Length)));
        new TcpFlyweight().wrap(b, L4_OFFSET).checksum(c);
        return b.byteArray();
    }

    static byte[] udp(final int src, final int srcPort, final int dst, final int dstPort, final int payload)
    {
        final int l4Length = UdpFlyweight.HEADER_LENGTH + payload;
        final UnsafeBuffer b = new UnsafeBuffer(new byte[L4_OFFSET + l4Length]);
        header(b, src, dst, Ipv4Flyweight.PROTOCOL_UDP, l4Length);
        new UdpFlyweight().wrap(b, L4_OFFSET).sourcePort(srcPort).destinationPort(dstPort).length(l4Length);
        final int c = Checksums.finish(Checksums.sum(b, L4_OFFSET, l4Length,
            Checksums.pseudoHeaderV4(src, dst, Ipv4Flyweight.PROTOCOL_UDP, l4Length)));
        new UdpFlyweight().wrap(b, L4_OFFSET).checksum(c == 0 ? 0xFFFF : c);
        return b.byteArray();
    }

    private static void header(final UnsafeBuffer b, final int src, final int dst, final int protocol, final int l4Length)
    {
        new EthernetFlyweight().wrap(b, 0).destination(LB_MAC).source(CLIENT_MAC).etherType(EthernetFlyweight.ETHER_TYPE_IPV4);
        new Ipv4Flyweight().wrap(b, EthernetFlyweight.HEADER_LENGTH).versionAndHeaderLength(Ipv4Flyweight.MIN_HEADER_LENGTH)
            .totalLength(Ipv4Flyweight.MIN_HEADER_LENGTH + l4Length).ttl(64).protocol(protocol).source(src).destination(dst)
            .computeChecksum();
    }
}
