package io.sluice.nativeio;

import java.io.ByteArrayOutputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** A fluent builder of Ethernet frames for packet tests (checksums filled in for IPv4 headers and UDP/ICMP). */
public final class TestPackets
{
    public static final byte[] MAC_A = {0x02, 0, 0, 0, 0x0a, 0x01};
    public static final byte[] MAC_B = {0x02, 0, 0, 0, 0x0b, 0x02};

    private byte[] dstMac = MAC_A;
    private byte[] srcMac = MAC_B;
    private int vlan = -1;
    private InetAddress src;
    private InetAddress dst;
    private int proto;
    private byte[] l4 = new byte[0];
    private int etherType = -1;
    private boolean fragment;

    public static TestPackets frame()
    {
        return new TestPackets();
    }

    public static InetAddress ip(final String text)
    {
        try
        {
            return InetAddress.getByName(text);
        }
        catch (final UnknownHostException ex)
        {
            throw new IllegalArgumentException(ex);
        }
    }

    public TestPackets macs(final byte[] source, final byte[] destination)
    {
        srcMac = source;
        dstMac = destination;
        return this;
    }

    public TestPackets vlan(final int id)
    {
        vlan = id;
        return this;
    }

    public TestPackets etherType(final int type)
    {
        etherType = type;
        return this;
    }

    public TestPackets fragment()
    {
        fragment = true;
        return this;
    }

    public TestPackets ip(final String source, final String destination)
    {
        src = ip(source);
        dst = ip(destination);
        return this;
    }

    public TestPackets udp(final int sport, final int dport, final byte[] payload)
    {
        proto = 17;
        l4 = new byte[8 + payload.length];
        put16(l4, 0, sport);
        put16(l4, 2, dport);
        put16(l4, 4, l4.length);
        System.arraycopy(payload, 0, l4, 8, payload.length);
        return this;
    }

    public TestPackets tcpSyn(final int sport, final int dport)
    {
        proto = 6;
        l4 = new byte[20];
        put16(l4, 0, sport);
        put16(l4, 2, dport);
        l4[12] = 0x50;
        l4[13] = 0x02;
        put16(l4, 14, 65535);
        return this;
    }

    /** ICMP (or ICMPv6) message of {@code type}/{@code code} with {@code body} after the 8-byte header. */
    public TestPackets icmp(final int type, final int code, final byte[] body)
    {
        proto = src instanceof Inet4Address ? 1 : 58;
        l4 = new byte[8 + body.length];
        l4[0] = (byte)type;
        l4[1] = (byte)code;
        System.arraycopy(body, 0, l4, 8, body.length);
        if (proto == 1)
        {
            put16(l4, 2, checksum(l4, 0, l4.length));
        }
        return this;
    }

    /** @return the IP packet (no Ethernet header). */
    public byte[] ipPacket()
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (src instanceof Inet4Address)
        {
            final byte[] h = new byte[20];
            h[0] = 0x45;
            put16(h, 2, 20 + l4.length);
            if (fragment)
            {
                put16(h, 6, 185);
            }
            h[8] = 64;
            h[9] = (byte)proto;
            System.arraycopy(src.getAddress(), 0, h, 12, 4);
            System.arraycopy(dst.getAddress(), 0, h, 16, 4);
            put16(h, 10, checksum(h, 0, 20));
            if (proto == 17)
            {
                final byte[] pseudo = new byte[12 + l4.length];
                System.arraycopy(h, 12, pseudo, 0, 8);
                pseudo[9] = 17;
                put16(pseudo, 10, l4.length);
                System.arraycopy(l4, 0, pseudo, 12, l4.length);
                final int sum = checksum(pseudo, 0, pseudo.length);
                put16(l4, 6, sum == 0 ? 0xffff : sum);
            }
            out.writeBytes(h);
        }
        else
        {
            final byte[] h = new byte[40];
            h[0] = 0x60;
            put16(h, 4, l4.length);
            h[6] = (byte)proto;
            h[7] = 64;
            System.arraycopy(src.getAddress(), 0, h, 8, 16);
            System.arraycopy(dst.getAddress(), 0, h, 24, 16);
            out.writeBytes(h);
        }
        out.writeBytes(l4);
        return out.toByteArray();
    }

    public byte[] build()
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(dstMac);
        out.writeBytes(srcMac);
        if (vlan >= 0)
        {
            out.write(0x81);
            out.write(0x00);
            out.write(vlan >>> 8);
            out.write(vlan);
        }
        final int type = etherType >= 0 ? etherType : src instanceof Inet4Address ? 0x0800 : 0x86dd;
        out.write(type >>> 8);
        out.write(type);
        if (etherType >= 0 && src == null)
        {
            out.writeBytes(new byte[28]);
        }
        else
        {
            out.writeBytes(ipPacket());
        }
        return out.toByteArray();
    }

    public static void put16(final byte[] b, final int offset, final int value)
    {
        b[offset] = (byte)(value >>> 8);
        b[offset + 1] = (byte)value;
    }

    public static int checksum(final byte[] b, final int offset, final int length)
    {
        long sum = 0;
        for (int i = 0; i < length; i += 2)
        {
            final int hi = b[offset + i] & 0xff;
            final int lo = i + 1 < length ? b[offset + i + 1] & 0xff : 0;
            sum += (hi << 8) | lo;
        }
        while ((sum >>> 16) != 0)
        {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return (int)(~sum & 0xffff);
    }
}
