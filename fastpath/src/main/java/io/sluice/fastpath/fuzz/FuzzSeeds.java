package io.sluice.fastpath.fuzz;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import org.agrona.concurrent.UnsafeBuffer;

import io.sluice.fastpath.packet.Checksums;
import io.sluice.fastpath.packet.EthernetFlyweight;
import io.sluice.fastpath.packet.IpAddresses;
import io.sluice.fastpath.packet.Ipv4Flyweight;
import io.sluice.fastpath.packet.Ipv6Flyweight;
import io.sluice.fastpath.packet.TcpFlyweight;
import io.sluice.fastpath.packet.VlanFlyweight;

/** Valid seed frames for {@link FrameFuzzer}: TCP (with options), UDP, ICMP echo and errors, 802.1Q, fragments. */
public final class FuzzSeeds
{
    private FuzzSeeds()
    {
    }

    /**
     * A set of valid frames from {@code client} (a source no protected flow uses) to {@code vip}:{@code vipPort}
     * and from {@code backend}:{@code backendPort} to {@code local}, all with the given MACs.
     */
    public static List<byte[]> standard(final long srcMac, final long dstMac, final String client, final String vip,
        final int vipPort, final String backend, final int backendPort, final String local)
    {
        final List<byte[]> s = new ArrayList<>();
        final byte[] mss = {2, 4, 5, (byte)0xb4, 1, 3, 3, 7};
        s.add(tcp(srcMac, dstMac, -1, client, 5555, vip, vipPort, TcpFlyweight.SYN, mss, new byte[0]));
        s.add(tcp(srcMac, dstMac, -1, client, 5556, vip, vipPort, TcpFlyweight.ACK | TcpFlyweight.PSH, new byte[0],
            "GET / HTTP/1.1\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
        s.add(tcp(srcMac, dstMac, -1, client, 5557, vip, vipPort, TcpFlyweight.RST | TcpFlyweight.ACK, new byte[0], new byte[0]));
        s.add(tcp(srcMac, dstMac, 5, client, 5558, vip, vipPort, TcpFlyweight.FIN | TcpFlyweight.ACK, new byte[0], new byte[0]));
        s.add(udp(srcMac, dstMac, -1, client, 5559, vip, 53, "query".getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
        s.add(udp(srcMac, dstMac, 5, client, 5560, vip, 53, new byte[1]));
        s.add(tcp(srcMac, dstMac, -1, backend, backendPort, local, 2000, TcpFlyweight.ACK, new byte[0], new byte[8]));
        s.add(icmp(srcMac, dstMac, client, vip, IpAddresses.parse(vip) instanceof Inet4Address ? 8 : 128, 0,
            new byte[] {0x12, 0x34, 0, 1, 'f', 'u', 'z', 'z'}));
        final byte[] quoted = tcp(0, 0, -1, local, 3000, backend, backendPort, TcpFlyweight.ACK, new byte[0], new byte[0]);
        final byte[] body = new byte[4 + quoted.length - EthernetFlyweight.HEADER_LENGTH];
        new UnsafeBuffer(body).putInt(0, 1400, ByteOrder.BIG_ENDIAN);
        System.arraycopy(quoted, EthernetFlyweight.HEADER_LENGTH, body, 4, body.length - 4);
        final boolean v4 = IpAddresses.parse(vip) instanceof Inet4Address;
        s.add(icmp(srcMac, dstMac, backend, local, v4 ? 3 : 2, v4 ? 4 : 0, body));
        if (v4)
        {
            final byte[] fragment = udp(srcMac, dstMac, -1, client, 5561, vip, 53, new byte[16]);
            final UnsafeBuffer b = new UnsafeBuffer(fragment);
            final Ipv4Flyweight ip = new Ipv4Flyweight().wrap(b, EthernetFlyweight.HEADER_LENGTH);
            ip.flagsAndFragmentOffset(0x2000).computeChecksum();
            s.add(fragment);
        }
        return s;
    }

    public static byte[] tcp(final long srcMac, final long dstMac, final int vlan, final String src, final int srcPort,
        final String dst, final int dstPort, final int flags, final byte[] options, final byte[] payload)
    {
        final byte[] l4 = new byte[TcpFlyweight.MIN_HEADER_LENGTH + options.length + payload.length];
        final UnsafeBuffer b = new UnsafeBuffer(l4);
        new TcpFlyweight().wrap(b, 0).sourcePort(srcPort).destinationPort(dstPort).sequence(1000).acknowledgment(1)
            .headerLength(TcpFlyweight.MIN_HEADER_LENGTH + options.length).flags(flags).window(65535);
        b.putBytes(TcpFlyweight.MIN_HEADER_LENGTH, options);
        b.putBytes(TcpFlyweight.MIN_HEADER_LENGTH + options.length, payload);
        return frame(srcMac, dstMac, vlan, src, dst, Ipv4Flyweight.PROTOCOL_TCP, l4, TcpFlyweight.CHECKSUM_OFFSET);
    }

    public static byte[] udp(final long srcMac, final long dstMac, final int vlan, final String src, final int srcPort,
        final String dst, final int dstPort, final byte[] payload)
    {
        final byte[] l4 = new byte[8 + payload.length];
        final UnsafeBuffer b = new UnsafeBuffer(l4);
        b.putShort(0, (short)srcPort, ByteOrder.BIG_ENDIAN);
        b.putShort(2, (short)dstPort, ByteOrder.BIG_ENDIAN);
        b.putShort(4, (short)l4.length, ByteOrder.BIG_ENDIAN);
        b.putBytes(8, payload);
        return frame(srcMac, dstMac, vlan, src, dst, Ipv4Flyweight.PROTOCOL_UDP, l4, 6);
    }

    /** ICMP over IPv4 or ICMPv6 over IPv6 (by the addresses): type, code, then {@code body} after the checksum. */
    public static byte[] icmp(final long srcMac, final long dstMac, final String src, final String dst, final int type,
        final int code, final byte[] body)
    {
        final byte[] l4 = new byte[4 + body.length];
        l4[0] = (byte)type;
        l4[1] = (byte)code;
        System.arraycopy(body, 0, l4, 4, body.length);
        final boolean v4 = IpAddresses.parse(src) instanceof Inet4Address;
        return frame(srcMac, dstMac, -1, src, dst, v4 ? 1 : 58, l4, 2);
    }

    /** Ethernet (+ 802.1Q when {@code vlan} ≥ 0) + IPv4/IPv6 around {@code l4}, its checksum computed in place. */
    public static byte[] frame(final long srcMac, final long dstMac, final int vlan, final String src, final String dst,
        final int protocol, final byte[] l4, final int checksumOffset)
    {
        final InetAddress s = IpAddresses.parse(src);
        final InetAddress d = IpAddresses.parse(dst);
        final boolean v4 = s instanceof Inet4Address;
        final int l2 = EthernetFlyweight.HEADER_LENGTH + (vlan >= 0 ? VlanFlyweight.HEADER_LENGTH : 0);
        final int ipHeader = v4 ? Ipv4Flyweight.MIN_HEADER_LENGTH : Ipv6Flyweight.HEADER_LENGTH;
        final UnsafeBuffer b = new UnsafeBuffer(new byte[l2 + ipHeader + l4.length]);
        final EthernetFlyweight eth = new EthernetFlyweight().wrap(b, 0).destination(dstMac).source(srcMac);
        final int etherType = v4 ? EthernetFlyweight.ETHER_TYPE_IPV4 : EthernetFlyweight.ETHER_TYPE_IPV6;
        if (vlan >= 0)
        {
            eth.etherType(EthernetFlyweight.ETHER_TYPE_VLAN);
            new VlanFlyweight().wrap(b, EthernetFlyweight.HEADER_LENGTH).vlanId(vlan).etherType(etherType);
        }
        else
        {
            eth.etherType(etherType);
        }
        final int at = l2 + ipHeader;
        b.putBytes(at, l4);
        final long pseudo;
        if (v4)
        {
            final int sa = (int)IpAddresses.low(s);
            final int da = (int)IpAddresses.low(d);
            new Ipv4Flyweight().wrap(b, l2).versionAndHeaderLength(ipHeader).totalLength(ipHeader + l4.length).ttl(64)
                .protocol(protocol).source(sa).destination(da).computeChecksum();
            pseudo = protocol == 1 ? 0 : Checksums.pseudoHeaderV4(sa, da, protocol, l4.length);
        }
        else
        {
            new Ipv6Flyweight().wrap(b, l2).versionClassFlow(0, 0).payloadLength(l4.length).nextHeader(protocol).hopLimit(64)
                .source(IpAddresses.high(s), IpAddresses.low(s)).destination(IpAddresses.high(d), IpAddresses.low(d));
            pseudo = Checksums.pseudoHeaderV6(IpAddresses.high(s), IpAddresses.low(s), IpAddresses.high(d), IpAddresses.low(d),
                protocol, l4.length);
        }
        b.putShort(at + checksumOffset, (short)0);
        int checksum = Checksums.finish(Checksums.sum(b, at, l4.length, pseudo));
        if (checksum == 0 && protocol == Ipv4Flyweight.PROTOCOL_UDP)
        {
            checksum = 0xFFFF;
        }
        b.putShort(at + checksumOffset, (short)checksum, ByteOrder.BIG_ENDIAN);
        return b.byteArray();
    }
}
