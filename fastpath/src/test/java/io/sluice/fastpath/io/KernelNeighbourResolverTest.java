package io.sluice.fastpath.io;

import java.net.InetAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.agrona.concurrent.SystemNanoClock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.sluice.fastpath.NeighbourCache;
import io.sluice.fastpath.NeighbourTable;
import io.sluice.fastpath.packet.IpAddresses;
import io.sluice.nativeio.NetNs;
import io.sluice.nativeio.netlink.Netlink;

import static org.assertj.core.api.Assertions.assertThat;

/** Next hops learned from the kernel of namespace {@code fp<pid>n}, its peer {@code fp<pid>m} answering ARP. */
class KernelNeighbourResolverTest
{
    private static final String PREFIX = "fp" + ProcessHandle.current().pid();
    private static final String NS = PREFIX + "n";
    private static final String PEER_NS = PREFIX + "m";
    private static final String IF = PREFIX + "n";
    private static final String PEER_IF = PREFIX + "m";
    private static long peerMac;

    @BeforeAll
    static void setUp()
    {
        try
        {
            Namespaces.add(NS);
            Namespaces.add(PEER_NS);
            Namespaces.run("ip", "-n", NS, "link", "add", IF, "type", "veth", "peer", "name", PEER_IF, "netns", PEER_NS);
            Namespaces.run("ip", "-n", NS, "link", "set", IF, "up");
            Namespaces.run("ip", "-n", PEER_NS, "link", "set", PEER_IF, "up");
            Namespaces.run("ip", "-n", NS, "addr", "add", "198.18.5.1/24", "dev", IF);
            Namespaces.run("ip", "-n", PEER_NS, "addr", "add", "198.18.5.2/24", "dev", PEER_IF);
            Namespaces.run("ip", "-n", PEER_NS, "addr", "add", "198.18.5.254/24", "dev", PEER_IF);
            Namespaces.run("ip", "-n", NS, "route", "add", "198.19.0.0/16", "via", "198.18.5.254");
            peerMac = PacketIoPort.mac(NetNs.call(PEER_NS, () ->
            {
                try (Netlink netlink = new Netlink())
                {
                    return netlink.link(PEER_IF).mac();
                }
            }));
        }
        catch (final RuntimeException ex)
        {
            tearDown();
            throw ex;
        }
    }

    @AfterAll
    static void tearDown()
    {
        Namespaces.deleteAll();
    }

    private static long awaitMac(final NeighbourCache cache, final KernelNeighbourResolver resolver, final InetAddress address)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        long mac = cache.nextHopMac(IpAddresses.high(address), IpAddresses.low(address));
        while (mac == NeighbourTable.NO_MAC && System.nanoTime() < deadline)
        {
            resolver.doWork();
            LockSupport.parkNanos(5_000_000);
            mac = cache.nextHopMac(IpAddresses.high(address), IpAddresses.low(address));
        }
        return mac;
    }

    @Test
    void shouldResolveAnOnLinkNextHopAndAGatewayOnRequest()
    {
        final NeighbourCache cache = new NeighbourCache();
        try (KernelNeighbourResolver resolver = new KernelNeighbourResolver(cache, NetNs.call(NS, Netlink::new),
            new SystemNanoClock(), TimeUnit.MILLISECONDS.toNanos(50), TimeUnit.SECONDS.toNanos(30)))
        {
            final InetAddress backend = IpAddresses.parse("198.18.5.2");
            cache.requestResolution(IpAddresses.high(backend), IpAddresses.low(backend));
            assertThat(awaitMac(cache, resolver, backend)).isEqualTo(peerMac);

            final InetAddress client = IpAddresses.parse("198.19.9.9");
            cache.requestResolution(IpAddresses.high(client), IpAddresses.low(client));
            assertThat(awaitMac(cache, resolver, client)).isEqualTo(peerMac);
            // Every off-link destination shares the gateway's MAC (the default next hop).
            final InetAddress other = IpAddresses.parse("198.19.77.1");
            assertThat(cache.nextHopMac(IpAddresses.high(other), IpAddresses.low(other))).isEqualTo(peerMac);
            assertThat(resolver.pendingCount()).isZero();
        }
    }
}
