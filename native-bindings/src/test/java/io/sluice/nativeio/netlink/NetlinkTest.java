package io.sluice.nativeio.netlink;

import io.sluice.nativeio.NetNs;
import io.sluice.nativeio.TestNetwork;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class NetlinkTest
{
    private static TestNetwork network;
    private static String nsA;
    private static String nsB;
    private static String ifA;
    private static String ifB;

    @BeforeAll
    static void setUp()
    {
        network = new TestNetwork();
        nsA = network.namespace("nla");
        nsB = network.namespace("nlb");
        ifA = network.name("a");
        ifB = network.name("b");
        network.veth(nsA, ifA, nsB, ifB);
        network.ip(nsA, "link", "set", ifA, "mtu", "1400");
        network.ip(nsA, "addr", "add", "198.18.0.1/24", "dev", ifA);
        network.ip(nsB, "addr", "add", "198.18.0.2/24", "dev", ifB);
        network.ip(nsB, "link", "set", ifB, "address", "02:00:00:00:0b:02");
        network.ip(nsA, "addr", "add", "2001:2::1/64", "dev", ifA, "nodad");
        network.ip(nsB, "addr", "add", "2001:2::2/64", "dev", ifB, "nodad");
    }

    @AfterAll
    static void tearDown()
    {
        network.close();
    }

    @Test
    void shouldReportIndexMacMtuAndQueues()
    {
        final Netlink.Link link = NetNs.call(nsA, () ->
        {
            try (Netlink netlink = new Netlink())
            {
                return netlink.link(ifA);
            }
        });
        assertThat(link.name()).isEqualTo(ifA);
        assertThat(link.index()).isPositive();
        assertThat(link.mtu()).isEqualTo(1400);
        assertThat(link.mac()).hasSize(6);
        assertThat(link.rxQueues()).isGreaterThanOrEqualTo(1);
        assertThat(link.up()).isTrue();
    }

    @Test
    void shouldAddListAndRemoveIpv4AndIpv6Addresses() throws Exception
    {
        final InetAddress v4 = InetAddress.getByName("198.18.1.7");
        final InetAddress v6 = InetAddress.getByName("2001:2::7");
        NetNs.run(nsA, () ->
        {
            try (Netlink netlink = new Netlink())
            {
                final int index = netlink.linkIndex(ifA);
                assertThat(netlink.addAddress(index, v4, 32)).isTrue();
                assertThat(netlink.addAddress(index, v4, 32)).as("already present is tolerated").isFalse();
                assertThat(netlink.addAddress(index, v6, 64)).isTrue();
                // Added without DAD: bindable at once (a tentative address would refuse with EADDRNOTAVAIL).
                io.sluice.nativeio.Libc.close(io.sluice.nativeio.Sockets.bindUdp(new java.net.InetSocketAddress(v6, 5000)));
                assertThat(netlink.addresses(index)).contains(
                    new Netlink.InterfaceAddress(index, v4, 32), new Netlink.InterfaceAddress(index, v6, 64));

                assertThat(netlink.removeAddress(index, v4, 32)).isTrue();
                assertThat(netlink.removeAddress(index, v4, 32)).as("already absent is tolerated").isFalse();
                assertThat(netlink.removeAddress(index, v6, 64)).isTrue();
                assertThat(netlink.addresses(index)).extracting(Netlink.InterfaceAddress::address).doesNotContain(v4, v6);
            }
        });
    }

    @Test
    void shouldResolveIpv6NeighbourThroughNeighbourDiscovery() throws Exception
    {
        assertThat(Netlink.formatMac(resolve(InetAddress.getByName("2001:2::2")).mac())).isEqualTo("02:00:00:00:0b:02");
    }

    @Test
    void shouldResolveNeighbourMacThroughTheKernel() throws Exception
    {
        final Netlink.Neighbour neighbour = resolve(InetAddress.getByName("198.18.0.2"));
        assertThat(neighbour.usable()).isTrue();
        assertThat(Netlink.formatMac(neighbour.mac())).isEqualTo("02:00:00:00:0b:02");
    }

    private static Netlink.Neighbour resolve(final InetAddress peer)
    {
        final Netlink.Neighbour neighbour = NetNs.call(nsA, () ->
        {
            try (Netlink netlink = new Netlink())
            {
                final int index = netlink.linkIndex(ifA);
                netlink.resolveNeighbour(index, peer);
                final long deadline = System.nanoTime() + 5_000_000_000L;
                Optional<Netlink.Neighbour> found = netlink.neighbour(index, peer);
                while ((found.isEmpty() || !found.get().usable()) && System.nanoTime() < deadline)
                {
                    Thread.sleep(20);
                    found = netlink.neighbour(index, peer);
                }
                return found.orElseThrow();
            }
        });
        assertThat(neighbour.usable()).as(neighbour.toString()).isTrue();
        return neighbour;
    }

    @Test
    void shouldUpdatePeerNeighbourEntryWithGratuitousArpAndUnsolicitedAdvertisement() throws Exception
    {
        network.ip(nsB, "neigh", "replace", "198.18.0.1", "lladdr", "02:00:00:00:00:99", "dev", ifB, "nud", "stale");
        network.ip(nsB, "neigh", "replace", "2001:2::1", "lladdr", "02:00:00:00:00:99", "dev", ifB, "nud", "stale");
        final Netlink.Link linkA = NetNs.call(nsA, () ->
        {
            try (Netlink netlink = new Netlink())
            {
                return netlink.link(ifA);
            }
        });
        final String macA = Netlink.formatMac(linkA.mac());
        final InetAddress v4 = InetAddress.getByName("198.18.0.1");
        final InetAddress v6 = InetAddress.getByName("2001:2::1");
        // The kernel ignores an update within neigh locktime of the last one: announce until it takes (bounded).
        final long deadline = System.nanoTime() + 10_000_000_000L;
        String seenV4 = null;
        String seenV6 = null;
        while ((!macA.equals(seenV4) || !macA.equals(seenV6)) && System.nanoTime() < deadline)
        {
            NetNs.run(nsA, () ->
            {
                io.sluice.nativeio.packet.Announcements.gratuitousArp(linkA.index(), linkA.mac(), (java.net.Inet4Address)v4);
                io.sluice.nativeio.packet.Announcements.unsolicitedNeighbourAdvertisement(linkA.index(), linkA.mac(),
                    (java.net.Inet6Address)v6);
            });
            Thread.sleep(100);
            final String[] seen = NetNs.call(nsB, () ->
            {
                try (Netlink netlink = new Netlink())
                {
                    final int index = netlink.linkIndex(ifB);
                    return new String[] {
                        netlink.neighbour(index, v4).map(n -> Netlink.formatMac(n.mac())).orElse(null),
                        netlink.neighbour(index, v6).map(n -> Netlink.formatMac(n.mac())).orElse(null),
                    };
                }
            });
            seenV4 = seen[0];
            seenV6 = seen[1];
        }
        assertThat(seenV4).as("ARP entry on B").isEqualTo(macA);
        assertThat(seenV6).as("ND entry on B").isEqualTo(macA);
    }

    @Test
    void shouldReportNoNeighbourForUnknownAddress() throws Exception
    {
        final InetAddress stranger = InetAddress.getByName("198.18.0.99");
        final Optional<Netlink.Neighbour> found = NetNs.call(nsA, () ->
        {
            try (Netlink netlink = new Netlink())
            {
                return netlink.neighbour(netlink.linkIndex(ifA), stranger);
            }
        });
        assertThat(found).isEmpty();
    }

    @Test
    void shouldLookUpOnLinkAndGatewayRoutes() throws Exception
    {
        network.ip(nsA, "route", "add", "198.19.5.0/24", "via", "198.18.0.2");
        final InetAddress onLink = InetAddress.getByName("198.18.0.2");
        final InetAddress remote = InetAddress.getByName("198.19.5.9");
        NetNs.run(nsA, () ->
        {
            try (Netlink netlink = new Netlink())
            {
                final int index = netlink.linkIndex(ifA);
                final Netlink.Route direct = netlink.route(onLink).orElseThrow();
                assertThat(direct.ifindex()).isEqualTo(index);
                assertThat(direct.gateway()).isNull();
                assertThat(direct.nextHop()).isEqualTo(onLink);
                final Netlink.Route routed = netlink.route(remote).orElseThrow();
                assertThat(routed.ifindex()).isEqualTo(index);
                assertThat(routed.gateway()).isEqualTo(onLink);
                assertThat(routed.preferredSource().getHostAddress()).isEqualTo("198.18.0.1");
                assertThat(netlink.route(InetAddress.getByName("198.19.200.1"))).as("no default route").isEmpty();
            }
            catch (final java.net.UnknownHostException ex)
            {
                throw new IllegalStateException(ex);
            }
        });
    }

    @Test
    void shouldTurnTxChecksumOffloadOff()
    {
        NetNs.run(nsB, () ->
        {
            Ethtool.txChecksumOffload(ifB, false);
            assertThat(Ethtool.txChecksumOffload(ifB)).isFalse();
            Ethtool.txChecksumOffload(ifB, true);
            assertThat(Ethtool.txChecksumOffload(ifB)).isTrue();
        });
    }
}
