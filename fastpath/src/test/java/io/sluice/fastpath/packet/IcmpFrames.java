package io.sluice.fastpath.packet;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.ByteOrder;
import java.util.Arrays;

import org.agrona.concurrent.UnsafeBuffer;

/** Test builder of ICMP / ICMPv6 frames (echo and errors quoting a packet), checksums right. */
public final class IcmpFrames
{
    private IcmpFrames()
    {
    }

    /** The IP packet of a built Ethernet frame (no 802.1Q tag), cut to {@code length} bytes (≤ 0: whole). */
    public static byte[] quote(final byte[] frame, final int length)
    {
        final byte[] ip = Arrays.copyOfRange(frame, EthernetFlyweight.HEADER_LENGTH, frame.length);
        return length <= 0 || length >= ip.length ? ip : Arrays.copyOf(ip, length);
    }

    public static byte[] echo(final long srcMac, final long dstMac, final String from, final String to, final boolean request,
        final int ttl, final byte[] data)
    {
        final boolean v4 = IpAddresses.parse(from) instanceof Inet4Address;
        final int type = v4 ? (request ? 8 : 0) : (request ? 128 : 129);
        final byte[] body = new byte[4 + data.length];
        body[0] = 0x12;
        body[1] = 0x34;
        body[3] = 7;
        System.arraycopy(data, 0, body, 4, data.length);
        return message(srcMac, dstMac, from, to, type, 0, ttl, body);
    }

    /** An error of {@code type}/{@code code} with the 4 bytes after the checksum {@code restOfHeader}, quoting. */
    public static byte[] error(final long srcMac, final long dstMac, final String from, final String to, final int type,
        final int code, final int restOfHeader, final byte[] quoted)
    {
        final byte[] body = new byte[4 + quoted.length];
        new UnsafeBuffer(body).putInt(0, restOfHeader, ByteOrder.BIG_ENDIAN);
        System.arraycopy(quoted, 0, body, 4, quoted.length);
        return message(srcMac, dstMac, from, to, type, code, 64, body);
    }

    /** Ethernet + IP + ICMP header (type, code, checksum) + {@code body}. */
    public static byte[] message(final long srcMac, final long dstMac, final String from, final String to, final int type,
        final int code, final int ttl, final byte[] body)
    {
        final InetAddress src = IpAddresses.parse(from);
        final InetAddress dst = IpAddresses.parse(to);
        final boolean v4 = src instanceof Inet4Address;
        final int ipHeader = v4 ? 20 : 40;
        final int icmpLength = 4 + body.length;
        final UnsafeBuffer b = new UnsafeBuffer(new byte[14 + ipHeader + icmpLength]);
        new EthernetFlyweight().wrap(b, 0).destination(dstMac).source(srcMac)
            .etherType(v4 ? EthernetFlyweight.ETHER_TYPE_IPV4 : EthernetFlyweight.ETHER_TYPE_IPV6);
        final int l4 = 14 + ipHeader;
        b.putByte(l4, (byte)type);
        b.putByte(l4 + 1, (byte)code);
        b.putBytes(l4 + 4, body);
        final long pseudo;
        if (v4)
        {
            new Ipv4Flyweight().wrap(b, 14).versionAndHeaderLength(20).totalLength(20 + icmpLength).identification(0x4242)
                .ttl(ttl).protocol(1).source((int)IpAddresses.low(src)).destination((int)IpAddresses.low(dst))
                .computeChecksum();
            pseudo = 0;
        }
        else
        {
            new Ipv6Flyweight().wrap(b, 14).versionClassFlow(0, 0).payloadLength(icmpLength).nextHeader(58).hopLimit(ttl)
                .source(IpAddresses.high(src), IpAddresses.low(src)).destination(IpAddresses.high(dst), IpAddresses.low(dst));
            pseudo = Checksums.pseudoHeaderV6(IpAddresses.high(src), IpAddresses.low(src), IpAddresses.high(dst),
                IpAddresses.low(dst), 58, icmpLength);
        }
        b.putShort(l4 + 2, (short)Checksums.finish(Checksums.sum(b, l4, icmpLength, pseudo)), ByteOrder.BIG_ENDIAN);
        return b.byteArray();
    }
}
