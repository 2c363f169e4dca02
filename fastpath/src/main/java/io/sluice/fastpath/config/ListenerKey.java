package io.sluice.fastpath.config;

import java.net.InetAddress;

/** What names an L4 listener: VIP, protocol and port. */
public record ListenerKey(InetAddress vip, Protocol protocol, int port)
{
    public ListenerKey
    {
        if (port < 1 || port > 65535)
        {
            throw new IllegalArgumentException("port: " + port + " is not in 1..65535");
        }
    }

    public static ListenerKey of(final String vip, final Protocol protocol, final int port)
    {
        return new ListenerKey(io.sluice.fastpath.packet.IpAddresses.parse(vip), protocol, port);
    }

    @Override
    public String toString()
    {
        return protocol.name().toLowerCase(java.util.Locale.ROOT) + ":" + vip.getHostAddress() + ":" + port;
    }
}
