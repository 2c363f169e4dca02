package io.sluice.fastpath.packet;

import org.agrona.concurrent.UnsafeBuffer;

/** Test helpers that validate a whole frame's checksums from scratch. */
public final class FrameChecks
{
    private FrameChecks()
    {
    }

    /** True when the IPv4 header checksum (if any) and the TCP/UDP checksum verify. */
    public static boolean checksumsValid(final byte[] frame)
    {
        final UnsafeBuffer b = new UnsafeBuffer(frame);
        int l2 = EthernetFlyweight.HEADER_LENGTH;
        int etherType = new EthernetFlyweight().wrap(b, 0).etherType();
        if (etherType == EthernetFlyweight.ETHER_TYPE_VLAN)
        {
            etherType = new VlanFlyweight().wrap(b, l2).etherType();
            l2 += VlanFlyweight.HEADER_LENGTH;
        }
        final long pseudo;
        final int l4;
        final int l4Length;
        final int protocol;
        if (etherType == EthernetFlyweight.ETHER_TYPE_IPV4)
        {
            final Ipv4Flyweight ip = new Ipv4Flyweight().wrap(b, l2);
            if (Checksums.fold(Checksums.sum(b, l2, ip.headerLength(), 0)) != 0xFFFF)
            {
                return false;
            }
            l4 = l2 + ip.headerLength();
            l4Length = ip.totalLength() - ip.headerLength();
            protocol = ip.protocol();
            pseudo = Checksums.pseudoHeaderV4(ip.source(), ip.destination(), protocol, l4Length);
        }
        else
        {
            final Ipv6Flyweight ip = new Ipv6Flyweight().wrap(b, l2);
            l4 = l2 + Ipv6Flyweight.HEADER_LENGTH;
            l4Length = ip.payloadLength();
            protocol = ip.nextHeader();
            pseudo = Checksums.pseudoHeaderV6(ip.sourceHigh(), ip.sourceLow(), ip.destinationHigh(), ip.destinationLow(),
                protocol, l4Length);
        }
        if (protocol == Ipv4Flyweight.PROTOCOL_UDP && etherType == EthernetFlyweight.ETHER_TYPE_IPV4 &&
            new UdpFlyweight().wrap(b, l4).checksum() == 0)
        {
            return true;
        }
        return Checksums.fold(Checksums.sum(b, l4, l4Length, pseudo)) == 0xFFFF;
    }
}
