package io.sluice.nativeio.xdp;

import java.net.Inet4Address;
import java.net.InetAddress;

/**
 * Key of the steering program's {@code vip_map}:
 * <pre>
 *   0                   16        18      19      20
 *   +-------------------+---------+-------+-------+
 *   | address (16 B)    | port    | proto | pad 0 |
 *   +-------------------+---------+-------+-------+
 * </pre>
 * IPv4 addresses are stored IPv4-mapped ({@code ::ffff:a.b.c.d}) so they can never collide with an IPv6 address;
 * the port is big-endian, as on the wire; proto is the IP protocol number. Port 0 with an ICMP proto is the echo
 * entry of a VIP; port 0 with proto 0 is the entry of a local (FullNAT source) address.
 */
public final class VipKey
{
    public static final int LENGTH = 20;
    public static final int ADDRESS_OFFSET = 0;
    public static final int PORT_OFFSET = 16;
    public static final int PROTO_OFFSET = 18;

    public static final int IPPROTO_ICMP = 1;
    public static final int IPPROTO_TCP = 6;
    public static final int IPPROTO_UDP = 17;
    public static final int IPPROTO_ICMPV6 = 58;

    private VipKey()
    {
    }

    /** @return the key bytes for (address, port, proto). */
    public static byte[] of(final InetAddress address, final int port, final int proto)
    {
        if (port < 0 || port > 65535)
        {
            throw new IllegalArgumentException("port: " + port + " is not in 0..65535");
        }
        if (proto < 0 || proto > 255)
        {
            throw new IllegalArgumentException("proto: " + proto + " is not in 0..255");
        }
        final byte[] key = new byte[LENGTH];
        final byte[] raw = address.getAddress();
        if (address instanceof Inet4Address)
        {
            key[10] = (byte)0xff;
            key[11] = (byte)0xff;
            System.arraycopy(raw, 0, key, 12, 4);
        }
        else
        {
            System.arraycopy(raw, 0, key, 0, 16);
        }
        key[PORT_OFFSET] = (byte)(port >>> 8);
        key[PORT_OFFSET + 1] = (byte)port;
        key[PROTO_OFFSET] = (byte)proto;
        return key;
    }
}
