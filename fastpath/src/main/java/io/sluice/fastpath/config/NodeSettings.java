package io.sluice.fastpath.config;

import java.net.InetAddress;
import java.util.List;

/**
 * Node-wide fastpath settings (CONTRACT.md {@code node:}), validated once.
 *
 * @param forwarders          forwarder agents; the same on every node of a cluster (ownership depends on it), 1..64.
 * @param sessionCapacity     sessions per node, split evenly over the forwarders.
 * @param localAddresses      FullNAT source addresses this node owns (at least one per VIP address family in use).
 * @param snatPortMin         lowest SNAT port; the default range 1024..32767 stays clear of Linux's ephemeral range
 *                            (32768..60999), so the kernel's own connections from a local address keep working.
 * @param snatPortMax         highest SNAT port.
 */
public record NodeSettings(int forwarders, int sessionCapacity, List<InetAddress> localAddresses, int snatPortMin, int snatPortMax)
{
    public static final int DEFAULT_SNAT_PORT_MIN = 1024;
    public static final int DEFAULT_SNAT_PORT_MAX = 32767;
    public static final int MAX_FORWARDERS = 64;

    public NodeSettings
    {
        localAddresses = List.copyOf(localAddresses);
        if (forwarders < 1 || forwarders > MAX_FORWARDERS)
        {
            throw new IllegalArgumentException("node.forwarders: " + forwarders + " is not in 1.." + MAX_FORWARDERS);
        }
        final long maxSessions = (long)forwarders * io.sluice.fastpath.session.SessionTable.MAX_CAPACITY;
        if (sessionCapacity < forwarders || sessionCapacity > maxSessions)
        {
            throw new IllegalArgumentException("node.sessionCapacity: " + sessionCapacity + " is not in " + forwarders +
                ".." + maxSessions);
        }
        if (snatPortMin < 1 || snatPortMax > 65535 || snatPortMax - snatPortMin + 1 < forwarders)
        {
            throw new IllegalArgumentException("node.snatPorts: " + snatPortMin + ".." + snatPortMax +
                " is not a range within 1..65535 with at least one port per forwarder");
        }
    }

    public static NodeSettings of(final int forwarders, final int sessionCapacity, final String... localAddresses)
    {
        return new NodeSettings(forwarders, sessionCapacity,
            java.util.Arrays.stream(localAddresses).map(io.sluice.fastpath.packet.IpAddresses::parse).toList(),
            DEFAULT_SNAT_PORT_MIN, DEFAULT_SNAT_PORT_MAX);
    }

    public int sessionsPerForwarder()
    {
        return sessionCapacity / forwarders;
    }
}
