package io.sluice.fastpath.config;

import java.net.InetAddress;

/**
 * A real server behind a listener. {@code weight} 0 takes no new flows (drain); {@code up} is driven by health checks.
 */
public record Backend(InetAddress address, int port, int weight, boolean up)
{
    public static final int MAX_WEIGHT = 65535;

    public Backend
    {
        if (port < 1 || port > 65535)
        {
            throw new IllegalArgumentException("server port: " + port + " is not in 1..65535");
        }
        if (weight < 0 || weight > MAX_WEIGHT)
        {
            throw new IllegalArgumentException("server weight: " + weight + " is not in 0.." + MAX_WEIGHT);
        }
    }

    public static Backend of(final String address, final int port, final int weight)
    {
        return new Backend(io.sluice.fastpath.packet.IpAddresses.parse(address), port, weight, true);
    }

    public BackendKey key()
    {
        return new BackendKey(address, port);
    }

    public Backend withUp(final boolean up)
    {
        return new Backend(address, port, weight, up);
    }

    public Backend withWeight(final int weight)
    {
        return new Backend(address, port, weight, up);
    }

    /** Identity of a backend within a listener. */
    public record BackendKey(InetAddress address, int port)
    {
        @Override
        public String toString()
        {
            return address.getHostAddress() + ":" + port;
        }
    }
}
