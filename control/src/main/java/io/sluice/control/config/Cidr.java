package io.sluice.control.config;

import com.fasterxml.jackson.annotation.JsonValue;

import java.net.InetAddress;

/**
 * An address prefix from an ACL, normalised so that host bits are zero.
 *
 * @param address the network address.
 * @param prefixLength 0..32 for IPv4, 0..128 for IPv6.
 */
public record Cidr(InetAddress address, int prefixLength)
{
    public static Cidr parse(final String text)
    {
        final int slash = text.indexOf('/');
        final String addressText = slash < 0 ? text : text.substring(0, slash);
        final InetAddress address = InetAddress.ofLiteral(addressText);
        final int max = address.getAddress().length * 8;
        final int length;
        if (slash < 0)
        {
            length = max;
        }
        else
        {
            try
            {
                length = Integer.parseInt(text.substring(slash + 1));
            }
            catch (final NumberFormatException ex)
            {
                throw new IllegalArgumentException("prefix length is not a number");
            }
        }
        if (length < 0 || length > max)
        {
            throw new IllegalArgumentException("prefix length " + length + " is not in 0.." + max);
        }
        final byte[] bytes = address.getAddress();
        for (int bit = length; bit < max; bit++)
        {
            bytes[bit >> 3] &= (byte)~(0x80 >>> (bit & 7));
        }
        try
        {
            return new Cidr(InetAddress.getByAddress(bytes), length);
        }
        catch (final java.net.UnknownHostException ex)
        {
            throw new IllegalArgumentException(ex.getMessage());
        }
    }

    public boolean contains(final InetAddress candidate)
    {
        final byte[] net = address.getAddress();
        final byte[] other = candidate.getAddress();
        if (net.length != other.length)
        {
            return false;
        }
        for (int bit = 0; bit < prefixLength; bit++)
        {
            final int mask = 0x80 >>> (bit & 7);
            if ((net[bit >> 3] & mask) != (other[bit >> 3] & mask))
            {
                return false;
            }
        }
        return true;
    }

    @JsonValue
    @Override
    public String toString()
    {
        return address.getHostAddress() + "/" + prefixLength;
    }
}
