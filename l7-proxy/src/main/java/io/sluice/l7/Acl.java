package io.sluice.l7;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

/**
 * Per-listener source-address access control, checked when a connection is accepted, before any byte is read.
 *
 * @param mode  allow (only these CIDRs) or deny (all but these).
 * @param cidrs IPv4/IPv6 CIDRs, e.g. {@code 198.18.0.0/24}.
 */
public record Acl(Mode mode, List<String> cidrs)
{
    /** Whether the CIDRs are the allowed set or the denied set. */
    public enum Mode
    {
        ALLOW,
        DENY
    }

    public Acl
    {
        ConfigException.required("acl.mode", mode);
        cidrs = List.copyOf(ConfigException.required("acl.cidrs", cidrs));
        for (final String cidr : cidrs)
        {
            parse(cidr);
        }
    }

    /** Compiles the CIDRs into a matcher; done once per config, not per connection. */
    public Matcher compile()
    {
        final byte[][] networks = new byte[cidrs.size()][];
        final int[] prefixes = new int[cidrs.size()];
        for (int i = 0; i < cidrs.size(); i++)
        {
            final Object[] parsed = parse(cidrs.get(i));
            networks[i] = (byte[])parsed[0];
            prefixes[i] = (Integer)parsed[1];
        }
        return new Matcher(mode == Mode.ALLOW, networks, prefixes);
    }

    private static Object[] parse(final String cidr)
    {
        final int slash = cidr.indexOf('/');
        final String address = slash < 0 ? cidr : cidr.substring(0, slash);
        try
        {
            if (!address.isEmpty() && Character.digit(address.charAt(0), 16) < 0 && address.charAt(0) != ':')
            {
                throw new UnknownHostException(address);
            }
            final byte[] bytes = InetAddress.getByName(address).getAddress();
            final int prefix = slash < 0 ? bytes.length * 8 : Integer.parseInt(cidr.substring(slash + 1));
            if (prefix < 0 || prefix > bytes.length * 8)
            {
                throw new NumberFormatException();
            }
            return new Object[] {bytes, prefix};
        }
        catch (final UnknownHostException | NumberFormatException ex)
        {
            throw new ConfigException("acl.cidrs: " + cidr + " is not an IPv4 or IPv6 CIDR");
        }
    }

    /** A compiled ACL; immutable, shared by all event loops. */
    public static final class Matcher
    {
        private final boolean allowList;
        private final byte[][] networks;
        private final int[] prefixes;

        Matcher(final boolean allowList, final byte[][] networks, final int[] prefixes)
        {
            this.allowList = allowList;
            this.networks = networks;
            this.prefixes = prefixes;
        }

        /** True when a connection from {@code address} may proceed. */
        public boolean permits(final InetAddress address)
        {
            byte[] bytes = address.getAddress();
            boolean matched = false;
            for (int i = 0; i < networks.length && !matched; i++)
            {
                matched = matches(bytes, networks[i], prefixes[i]);
                if (!matched && bytes.length == 16 && networks[i].length == 4 && isV4Mapped(bytes))
                {
                    final byte[] v4 = new byte[] {bytes[12], bytes[13], bytes[14], bytes[15]};
                    matched = matches(v4, networks[i], prefixes[i]);
                }
            }
            return matched == allowList;
        }

        private static boolean isV4Mapped(final byte[] a)
        {
            for (int i = 0; i < 10; i++)
            {
                if (a[i] != 0)
                {
                    return false;
                }
            }
            return a[10] == (byte)0xff && a[11] == (byte)0xff;
        }

        private static boolean matches(final byte[] address, final byte[] network, final int prefix)
        {
            if (address.length != network.length)
            {
                return false;
            }
            int bits = prefix;
            for (int i = 0; i < address.length && bits > 0; i++, bits -= 8)
            {
                final int mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
                if ((address[i] & mask) != (network[i] & mask))
                {
                    return false;
                }
            }
            return true;
        }
    }
}
