package io.sluice.fastpath.packet;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * sluice's uniform 128-bit address form: IPv6 as (high, low) big-endian halves; IPv4 as IPv4-mapped
 * {@code ::ffff:a.b.c.d}, i.e. high 0 and low {@code 0x0000_FFFF_aaaa_aaaa}. One session key and one
 * ACL code path then serve both families. Control-path helpers (they allocate) convert to and from InetAddress.
 */
public final class IpAddresses
{
    public static final long V4_MAPPED_PREFIX = 0x0000_FFFF_0000_0000L;

    private IpAddresses()
    {
    }

    public static long v4Low(final int address)
    {
        return V4_MAPPED_PREFIX | (address & 0xFFFF_FFFFL);
    }

    public static boolean isV4(final long high, final long low)
    {
        return high == 0 && (low & 0xFFFF_FFFF_0000_0000L) == V4_MAPPED_PREFIX;
    }

    public static long high(final InetAddress address)
    {
        if (address instanceof Inet4Address)
        {
            return 0;
        }
        final byte[] b = address.getAddress();
        return toLong(b, 0);
    }

    public static long low(final InetAddress address)
    {
        final byte[] b = address.getAddress();
        if (address instanceof Inet4Address)
        {
            return v4Low((int)toLong4(b));
        }
        return toLong(b, 8);
    }

    public static InetAddress toInetAddress(final long high, final long low)
    {
        try
        {
            if (isV4(high, low))
            {
                final int v = (int)low;
                return InetAddress.getByAddress(new byte[]{(byte)(v >>> 24), (byte)(v >>> 16), (byte)(v >>> 8), (byte)v});
            }
            final byte[] b = new byte[16];
            for (int i = 0; i < 8; i++)
            {
                b[i] = (byte)(high >>> (56 - 8 * i));
                b[8 + i] = (byte)(low >>> (56 - 8 * i));
            }
            return Inet6Address.getByAddress(null, b, -1);
        }
        catch (final UnknownHostException ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    /** Parses a literal address (never resolves names). */
    public static InetAddress parse(final String literal)
    {
        final String s = literal.trim();
        if (!s.matches("[0-9a-fA-F:.%]+"))
        {
            throw new IllegalArgumentException("not an IP address literal: " + literal);
        }
        try
        {
            return InetAddress.ofLiteral(s);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new IllegalArgumentException("not an IP address literal: " + literal, ex);
        }
    }

    private static long toLong(final byte[] b, final int from)
    {
        long v = 0;
        for (int i = 0; i < 8; i++)
        {
            v = (v << 8) | (b[from + i] & 0xFF);
        }
        return v;
    }

    private static long toLong4(final byte[] b)
    {
        return ((b[0] & 0xFFL) << 24) | ((b[1] & 0xFFL) << 16) | ((b[2] & 0xFFL) << 8) | (b[3] & 0xFFL);
    }
}
