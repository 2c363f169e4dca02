package io.sluice.fastpath.config;

import java.net.Inet4Address;
import java.net.InetAddress;

import io.sluice.fastpath.packet.IpAddresses;

/** An address prefix, IPv4 or IPv6, e.g. {@code 198.18.0.0/24} or {@code 2001:2::/48}. */
public record Cidr(InetAddress address, int prefixLength)
{
    public Cidr
    {
        final int max = address instanceof Inet4Address ? 32 : 128;
        if (prefixLength < 0 || prefixLength > max)
        {
            throw new IllegalArgumentException("cidr prefix length: " + prefixLength + " is not in 0.." + max);
        }
    }

    public static Cidr parse(final String text)
    {
        final int slash = text.indexOf('/');
        final InetAddress address = IpAddresses.parse(slash < 0 ? text : text.substring(0, slash));
        final int max = address instanceof Inet4Address ? 32 : 128;
        try
        {
            return new Cidr(address, slash < 0 ? max : Integer.parseInt(text.substring(slash + 1).trim()));
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException("cidr: " + text + " has no numeric prefix length", ex);
        }
    }

    public boolean isV4()
    {
        return address instanceof Inet4Address;
    }

    /** Prefix length in the uniform 128-bit form (IPv4 /n is ::ffff:0:0/96+n). */
    public int uniformPrefixLength()
    {
        return isV4() ? 96 + prefixLength : prefixLength;
    }

    @Override
    public String toString()
    {
        return address.getHostAddress() + "/" + prefixLength;
    }
}
