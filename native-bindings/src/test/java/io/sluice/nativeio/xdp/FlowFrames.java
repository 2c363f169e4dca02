package io.sluice.nativeio.xdp;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;

import static io.sluice.nativeio.TestPackets.put16;

/**
 * Ethernet + IPv4/IPv6 + TCP/UDP frames with every checksum computed from scratch, for the flow offload tests; and
 * the checks that a frame's checksums verify, recomputed from scratch.
 */
final class FlowFrames
{
    static final int TCP = 6;
    static final int UDP = 17;
    static final int ACK = 0x10;
    static final int FIN = 0x01;
    static final int SYN = 0x02;
    static final int RST = 0x04;

    /** How the L4 checksum field is filled. */
    enum Checksum
    {
        /** The complete checksum. */
        FULL,
        /** Zero (UDP: no checksum). */
        ZERO,
        /** The folded pseudo-header sum only, as a local sender's CHECKSUM_PARTIAL frame carries it. */
        PARTIAL
    }

    private byte[] dstMac = {0x02, 0, 0, 0, 0x0a, 0x01};
    private byte[] srcMac = {0x02, 0, 0, 0, 0x0b, 0x02};
    private InetAddress src;
    private InetAddress dst;
    private int sport;
    private int dport;
    private int proto;
    private int tcpFlags = ACK;
    private byte[] payload = {'s', 'l', 'u', 'i', 'c', 'e', 0x17};
    private Checksum checksum = Checksum.FULL;
    private byte[] ipOptions = new byte[0];

    static FlowFrames frame()
    {
        return new FlowFrames();
    }

    FlowFrames macs(final byte[] source, final byte[] destination)
    {
        srcMac = source;
        dstMac = destination;
        return this;
    }

    FlowFrames addresses(final InetAddress source, final InetAddress destination)
    {
        src = source;
        dst = destination;
        return this;
    }

    FlowFrames tcp(final int sourcePort, final int destinationPort, final int flags)
    {
        proto = TCP;
        sport = sourcePort;
        dport = destinationPort;
        tcpFlags = flags;
        return this;
    }

    FlowFrames udp(final int sourcePort, final int destinationPort)
    {
        proto = UDP;
        sport = sourcePort;
        dport = destinationPort;
        return this;
    }

    FlowFrames checksum(final Checksum mode)
    {
        checksum = mode;
        return this;
    }

    /** IPv4 options (a multiple of 4 bytes): IHL above 5. */
    FlowFrames ipOptions(final byte[] options)
    {
        ipOptions = options;
        return this;
    }

    FlowFrames payload(final byte[] bytes)
    {
        payload = bytes;
        return this;
    }

    byte[] build()
    {
        final boolean v4 = src instanceof Inet4Address;
        final int l4Length = (proto == TCP ? 20 : 8) + payload.length;
        final int ipHeader = v4 ? 20 + ipOptions.length : 40;
        final byte[] f = new byte[14 + ipHeader + l4Length];
        System.arraycopy(dstMac, 0, f, 0, 6);
        System.arraycopy(srcMac, 0, f, 6, 6);
        put16(f, 12, v4 ? 0x0800 : 0x86dd);
        final int ip = 14;
        if (v4)
        {
            f[ip] = (byte)(0x40 | ipHeader / 4);
            put16(f, ip + 2, ipHeader + l4Length);
            put16(f, ip + 4, 0x1234);
            put16(f, ip + 6, 0x4000);
            f[ip + 8] = 64;
            f[ip + 9] = (byte)proto;
            System.arraycopy(src.getAddress(), 0, f, ip + 12, 4);
            System.arraycopy(dst.getAddress(), 0, f, ip + 16, 4);
            System.arraycopy(ipOptions, 0, f, ip + 20, ipOptions.length);
            put16(f, ip + 10, (int)(~fold(sum(f, ip, ipHeader, 0)) & 0xffff));
        }
        else
        {
            f[ip] = 0x60;
            put16(f, ip + 4, l4Length);
            f[ip + 6] = (byte)proto;
            f[ip + 7] = 64;
            System.arraycopy(src.getAddress(), 0, f, ip + 8, 16);
            System.arraycopy(dst.getAddress(), 0, f, ip + 24, 16);
        }
        final int l4 = ip + ipHeader;
        put16(f, l4, sport);
        put16(f, l4 + 2, dport);
        final int checksumAt;
        if (proto == TCP)
        {
            put16(f, l4 + 4, 0x0102);
            put16(f, l4 + 6, 0x0304);
            put16(f, l4 + 10, 0x0506);
            f[l4 + 12] = 0x50;
            f[l4 + 13] = (byte)tcpFlags;
            put16(f, l4 + 14, 502);
            checksumAt = l4 + 16;
        }
        else
        {
            put16(f, l4 + 4, l4Length);
            checksumAt = l4 + 6;
        }
        System.arraycopy(payload, 0, f, l4 + (proto == TCP ? 20 : 8), payload.length);
        final long pseudo = pseudo(f);
        final int value = switch (checksum)
        {
            case FULL ->
            {
                final int c = (int)(~fold(sum(f, l4, l4Length, pseudo)) & 0xffff);
                yield c == 0 && proto == UDP ? 0xffff : c;
            }
            case ZERO -> 0;
            case PARTIAL -> (int)fold(pseudo);
        };
        put16(f, checksumAt, value);
        return f;
    }

    /** @return the pseudo-header sum (addresses, protocol, L4 length) of {@code frame}, unfolded. */
    static long pseudo(final byte[] frame)
    {
        final int ip = 14;
        if (frame[ip] >> 4 == 4)
        {
            final int l4Length = u16(frame, ip + 2) - ihl(frame);
            return sum(frame, ip + 12, 8, 0) + (frame[ip + 9] & 0xff) + l4Length;
        }
        return sum(frame, ip + 8, 32, 0) + (frame[ip + 6] & 0xff) + u16(frame, ip + 4);
    }

    /**
     * @return true when the IPv4 header checksum (if IPv4) and the L4 checksum verify, recomputed from scratch (an
     *     IPv4 UDP checksum of 0 means none).
     */
    static boolean checksumsVerify(final byte[] frame)
    {
        final int ip = 14;
        final boolean v4 = frame[ip] >> 4 == 4;
        if (v4 && fold(sum(frame, ip, ihl(frame), 0)) != 0xffff)
        {
            return false;
        }
        final int l4 = ip + (v4 ? ihl(frame) : 40);
        if (v4 && frame[ip + 9] == UDP && u16(frame, l4 + 6) == 0)
        {
            return true;
        }
        return fold(sum(frame, l4, frame.length - l4, pseudo(frame))) == 0xffff;
    }

    /** @return the IPv4 header length in bytes. */
    static int ihl(final byte[] frame)
    {
        return (frame[14] & 0x0f) * 4;
    }

    static long sum(final byte[] b, final int offset, final int length, final long initial)
    {
        long sum = initial;
        for (int i = 0; i < length; i += 2)
        {
            final int hi = b[offset + i] & 0xff;
            final int lo = i + 1 < length ? b[offset + i + 1] & 0xff : 0;
            sum += (hi << 8) | lo;
        }
        return sum;
    }

    static long fold(final long value)
    {
        long sum = value;
        while ((sum >>> 16) != 0)
        {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return sum;
    }

    static int u16(final byte[] b, final int offset)
    {
        return ((b[offset] & 0xff) << 8) | (b[offset + 1] & 0xff);
    }

    /** @return the high half of the address as the flow table takes it (IPv4: IPv4-mapped). */
    static long high(final InetAddress address)
    {
        return address instanceof Inet4Address ? 0 : ByteBuffer.wrap(address.getAddress()).getLong(0);
    }

    static long low(final InetAddress address)
    {
        if (address instanceof Inet4Address)
        {
            return 0xFFFF_0000_0000L | (ByteBuffer.wrap(address.getAddress()).getInt(0) & 0xFFFF_FFFFL);
        }
        return ByteBuffer.wrap(address.getAddress()).getLong(8);
    }

    /** @return the 6 bytes of {@code mac} in the low 48 bits, first byte highest. */
    static long mac(final byte[] mac)
    {
        long value = 0;
        for (final byte b : mac)
        {
            value = (value << 8) | (b & 0xff);
        }
        return value;
    }
}
