package io.sluice.fastpath.packet;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.Arrays;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * Fluent builder of valid Ethernet frames (optionally 802.1Q tagged) carrying TCP or UDP over IPv4 or IPv6,
 * with knobs to break them on purpose. {@link #build()} returns a fresh byte array each time.
 */
public final class PacketBuilder
{
    public static final long CLIENT_ROUTER_MAC = 0x02_00_00_00_00_01L;
    public static final long LB_MAC = 0x02_00_00_00_00_10L;

    private long sourceMac = CLIENT_ROUTER_MAC;
    private long destinationMac = LB_MAC;
    private int vlanId = -1;
    private int protocol = Ipv4Flyweight.PROTOCOL_TCP;
    private InetAddress source = IpAddresses.parse("198.18.0.1");
    private InetAddress destination = IpAddresses.parse("198.18.1.100");
    private int sourcePort = 40000;
    private int destinationPort = 80;
    private int tcpFlags = TcpFlyweight.SYN;
    private int sequence = 1000;
    private int acknowledgment;
    private byte[] payload = new byte[0];
    private int ttl = 64;
    private boolean partialChecksum;
    private boolean zeroUdpChecksum;
    private boolean badL4Checksum;
    private int ipHeaderLengthOverride = -1;
    private int tcpHeaderLengthOverride = -1;
    private int fragmentBits;
    private int truncateTo = -1;
    private int etherTypeOverride = -1;
    private int padTo;

    public static PacketBuilder tcp()
    {
        return new PacketBuilder().protocol(Ipv4Flyweight.PROTOCOL_TCP);
    }

    public static PacketBuilder udp()
    {
        return new PacketBuilder().protocol(Ipv4Flyweight.PROTOCOL_UDP);
    }

    public PacketBuilder copy()
    {
        final PacketBuilder b = new PacketBuilder();
        b.sourceMac = sourceMac;
        b.destinationMac = destinationMac;
        b.vlanId = vlanId;
        b.protocol = protocol;
        b.source = source;
        b.destination = destination;
        b.sourcePort = sourcePort;
        b.destinationPort = destinationPort;
        b.tcpFlags = tcpFlags;
        b.sequence = sequence;
        b.acknowledgment = acknowledgment;
        b.payload = payload;
        b.ttl = ttl;
        b.partialChecksum = partialChecksum;
        b.zeroUdpChecksum = zeroUdpChecksum;
        b.badL4Checksum = badL4Checksum;
        b.ipHeaderLengthOverride = ipHeaderLengthOverride;
        b.tcpHeaderLengthOverride = tcpHeaderLengthOverride;
        b.fragmentBits = fragmentBits;
        b.truncateTo = truncateTo;
        b.etherTypeOverride = etherTypeOverride;
        b.padTo = padTo;
        return b;
    }

    public PacketBuilder protocol(final int protocol)
    {
        this.protocol = protocol;
        return this;
    }

    public PacketBuilder macs(final long sourceMac, final long destinationMac)
    {
        this.sourceMac = sourceMac;
        this.destinationMac = destinationMac;
        return this;
    }

    public PacketBuilder vlan(final int vlanId)
    {
        this.vlanId = vlanId;
        return this;
    }

    public PacketBuilder from(final String address, final int port)
    {
        this.source = IpAddresses.parse(address);
        this.sourcePort = port;
        return this;
    }

    public PacketBuilder to(final String address, final int port)
    {
        this.destination = IpAddresses.parse(address);
        this.destinationPort = port;
        return this;
    }

    public PacketBuilder flags(final int tcpFlags)
    {
        this.tcpFlags = tcpFlags;
        return this;
    }

    public PacketBuilder sequence(final int sequence, final int acknowledgment)
    {
        this.sequence = sequence;
        this.acknowledgment = acknowledgment;
        return this;
    }

    public PacketBuilder payload(final byte[] payload)
    {
        this.payload = payload.clone();
        return this;
    }

    public PacketBuilder payload(final String text)
    {
        return payload(text.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }

    public PacketBuilder ttl(final int ttl)
    {
        this.ttl = ttl;
        return this;
    }

    /** L4 checksum field holds only the pseudo-header sum, as a veth with TX offload delivers it. */
    public PacketBuilder partialChecksum()
    {
        this.partialChecksum = true;
        return this;
    }

    public PacketBuilder zeroUdpChecksum()
    {
        this.zeroUdpChecksum = true;
        return this;
    }

    public PacketBuilder badL4Checksum()
    {
        this.badL4Checksum = true;
        return this;
    }

    public PacketBuilder ipHeaderLength(final int bytes)
    {
        this.ipHeaderLengthOverride = bytes;
        return this;
    }

    public PacketBuilder tcpHeaderLength(final int bytes)
    {
        this.tcpHeaderLengthOverride = bytes;
        return this;
    }

    public PacketBuilder fragment(final boolean moreFragments, final int offsetUnits)
    {
        this.fragmentBits = (moreFragments ? 0x2000 : 0) | (offsetUnits & 0x1FFF);
        return this;
    }

    public PacketBuilder truncateTo(final int length)
    {
        this.truncateTo = length;
        return this;
    }

    public PacketBuilder etherType(final int etherType)
    {
        this.etherTypeOverride = etherType;
        return this;
    }

    /** Pads the frame with zero bytes after the IP datagram up to {@code frameLength} (Ethernet minimum is 60). */
    public PacketBuilder padTo(final int frameLength)
    {
        this.padTo = frameLength;
        return this;
    }

    public byte[] build()
    {
        final boolean v4 = source instanceof Inet4Address;
        if (v4 != destination instanceof Inet4Address)
        {
            throw new IllegalStateException("mixed address families");
        }
        final int l2 = EthernetFlyweight.HEADER_LENGTH + (vlanId >= 0 ? VlanFlyweight.HEADER_LENGTH : 0);
        final int ipHeader = v4 ? Ipv4Flyweight.MIN_HEADER_LENGTH : Ipv6Flyweight.HEADER_LENGTH;
        final int l4Header = protocol == Ipv4Flyweight.PROTOCOL_TCP ? TcpFlyweight.MIN_HEADER_LENGTH : UdpFlyweight.HEADER_LENGTH;
        final int l4Length = l4Header + payload.length;
        final int datagram = ipHeader + l4Length;
        final int frameLength = Math.max(l2 + datagram, padTo);
        final UnsafeBuffer b = new UnsafeBuffer(new byte[frameLength]);

        final EthernetFlyweight eth = new EthernetFlyweight().wrap(b, 0);
        eth.destination(destinationMac).source(sourceMac);
        final int ipEtherType = v4 ? EthernetFlyweight.ETHER_TYPE_IPV4 : EthernetFlyweight.ETHER_TYPE_IPV6;
        if (vlanId >= 0)
        {
            eth.etherType(EthernetFlyweight.ETHER_TYPE_VLAN);
            new VlanFlyweight().wrap(b, EthernetFlyweight.HEADER_LENGTH).vlanId(vlanId).etherType(ipEtherType);
        }
        else
        {
            eth.etherType(ipEtherType);
        }

        final int l4 = l2 + ipHeader;
        final long pseudo;
        if (v4)
        {
            final Ipv4Flyweight ip = new Ipv4Flyweight().wrap(b, l2);
            final int src = (int)IpAddresses.low(source);
            final int dst = (int)IpAddresses.low(destination);
            ip.versionAndHeaderLength(ipHeader).totalLength(datagram).identification(0x1234).flagsAndFragmentOffset(fragmentBits)
                .ttl(ttl).protocol(protocol).source(src).destination(dst).computeChecksum();
            pseudo = Checksums.pseudoHeaderV4(src, dst, protocol, l4Length);
        }
        else
        {
            final Ipv6Flyweight ip = new Ipv6Flyweight().wrap(b, l2);
            ip.versionClassFlow(0, 0x12345).payloadLength(l4Length).nextHeader(protocol).hopLimit(ttl)
                .source(IpAddresses.high(source), IpAddresses.low(source))
                .destination(IpAddresses.high(destination), IpAddresses.low(destination));
            pseudo = Checksums.pseudoHeaderV6(IpAddresses.high(source), IpAddresses.low(source),
                IpAddresses.high(destination), IpAddresses.low(destination), protocol, l4Length);
        }

        b.putBytes(l4 + l4Header, payload);
        final int checksumOffset;
        if (protocol == Ipv4Flyweight.PROTOCOL_TCP)
        {
            new TcpFlyweight().wrap(b, l4).sourcePort(sourcePort).destinationPort(destinationPort).sequence(sequence)
                .acknowledgment(acknowledgment).headerLength(TcpFlyweight.MIN_HEADER_LENGTH).flags(tcpFlags).window(65535);
            checksumOffset = l4 + TcpFlyweight.CHECKSUM_OFFSET;
        }
        else
        {
            new UdpFlyweight().wrap(b, l4).sourcePort(sourcePort).destinationPort(destinationPort).length(l4Length);
            checksumOffset = l4 + UdpFlyweight.CHECKSUM_OFFSET;
        }

        int checksum;
        if (partialChecksum)
        {
            checksum = Checksums.fold(pseudo);
        }
        else
        {
            checksum = Checksums.finish(Checksums.sum(b, l4, l4Length, pseudo));
            if (checksum == 0 && protocol == Ipv4Flyweight.PROTOCOL_UDP)
            {
                checksum = 0xFFFF;
            }
        }
        if (zeroUdpChecksum)
        {
            checksum = 0;
        }
        if (badL4Checksum)
        {
            checksum ^= 0x5555;
        }
        b.putShort(checksumOffset, (short)checksum, java.nio.ByteOrder.BIG_ENDIAN);

        // Breakage applied last so the rest of the frame stays self-consistent.
        if (ipHeaderLengthOverride >= 0 && v4)
        {
            new Ipv4Flyweight().wrap(b, l2).versionAndHeaderLength(ipHeaderLengthOverride).computeChecksum();
        }
        if (tcpHeaderLengthOverride >= 0)
        {
            new TcpFlyweight().wrap(b, l4).headerLength(tcpHeaderLengthOverride);
        }
        if (etherTypeOverride >= 0)
        {
            eth.etherType(etherTypeOverride);
        }
        final byte[] frame = b.byteArray();
        return truncateTo >= 0 ? Arrays.copyOf(frame, truncateTo) : frame;
    }
}
