package io.sluice.nativeio.xdp;

import io.sluice.nativeio.Libc;
import io.sluice.nativeio.NetNs;
import io.sluice.nativeio.TestNetwork;
import io.sluice.nativeio.netlink.Ethtool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.locks.LockSupport;

import static io.sluice.nativeio.TestPackets.ip;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The steering program attached natively to a veth in namespace A (198.18.0.1, VIP 198.18.0.100, local address
 * 198.18.0.10), with B (198.18.0.2) as the kernel peer: what reaches the XSK, and what the kernel still handles.
 */
class XdpSteeringTest
{
    private static TestNetwork network;
    private static String nsA;
    private static String nsB;
    private static String ifA;
    private static String ifB;

    private Umem umem;
    private XskSocket xsk;
    private XdpSteering steering;

    @BeforeAll
    static void setUpNetwork()
    {
        network = new TestNetwork();
        nsA = network.namespace("sa");
        nsB = network.namespace("sb");
        ifA = network.name("sa");
        ifB = network.name("sb");
        network.veth(nsA, ifA, nsB, ifB);
        network.ip(nsA, "addr", "add", "198.18.0.1/24", "dev", ifA);
        network.ip(nsA, "addr", "add", "198.18.0.100/32", "dev", ifA);
        network.ip(nsA, "addr", "add", "198.18.0.10/32", "dev", ifA);
        network.ip(nsB, "addr", "add", "198.18.0.2/24", "dev", ifB);
        network.ip(nsA, "addr", "add", "2001:2::1/64", "dev", ifA, "nodad");
        network.ip(nsA, "addr", "add", "2001:2::100/128", "dev", ifA, "nodad");
        network.ip(nsB, "addr", "add", "2001:2::2/64", "dev", ifB, "nodad");
        NetNs.run(nsB, () -> Ethtool.txChecksumOffload(ifB, false));
    }

    @AfterAll
    static void tearDownNetwork()
    {
        network.close();
    }

    @BeforeEach
    void attach()
    {
        umem = Umem.allocate(new UmemConfig(256, 2048, 0, false));
        NetNs.run(nsA, () ->
        {
            xsk = XskSocket.open(umem, Libc.ifNameToIndex(ifA), 0, XskConfig.defaults().withBindMode(XskConfig.BindMode.COPY));
            steering = XdpSteering.attach(ifA, XdpMode.NATIVE);
        });
        steering.registerXsk(0, xsk.fd());
        final XskRing fill = xsk.fill();
        fill.reserve(128);
        for (int i = 0; i < 128; i++)
        {
            fill.address(fill.index() + i, umem.frameAddress(i));
        }
        fill.submit(128);
    }

    @AfterEach
    void detach()
    {
        steering.close();
        xsk.close();
        umem.close();
    }

    /** @return the UDP destination port of the next frame on the XSK (IPv4, no options), or -1 after 5 s. */
    private int nextXskUdpPort()
    {
        return nextXskUdpPort(14 + 20 + 2);
    }

    private int nextXskUdpPort(final int portOffset)
    {
        final XskRing rx = xsk.rx();
        final long deadline = System.nanoTime() + 5_000_000_000L;
        while (System.nanoTime() < deadline)
        {
            if (rx.peek(1) == 1)
            {
                final long address = rx.descAddress(rx.index());
                final int port = Short.toUnsignedInt(Short.reverseBytes(
                    umem.segment().get(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, address + portOffset)));
                rx.release(1);
                final XskRing fill = xsk.fill();
                fill.reserve(1);
                fill.address(fill.index(), address);
                fill.submit(1);
                return port;
            }
            LockSupport.parkNanos(1_000_000);
        }
        return -1;
    }

    private static void sendUdp(final String to, final int port) throws Exception
    {
        try (DatagramChannel channel = NetNs.call(nsB, DatagramChannel::open))
        {
            channel.send(ByteBuffer.wrap(new byte[] {1, 2, 3}), new InetSocketAddress(to, port));
        }
    }

    private static ByteBuffer receive(final DatagramChannel channel, final long timeoutNs) throws Exception
    {
        final ByteBuffer buffer = ByteBuffer.allocate(256);
        final long deadline = System.nanoTime() + timeoutNs;
        while (System.nanoTime() < deadline)
        {
            if (channel.receive(buffer) != null)
            {
                return buffer.flip();
            }
            LockSupport.parkNanos(1_000_000);
        }
        return null;
    }

    private static void echoOnce(final SocketChannel client) throws Exception
    {
        client.write(ByteBuffer.wrap(new byte[] {42}));
        final ByteBuffer reply = ByteBuffer.allocate(1);
        client.read(reply);
        assertThat(reply.get(0)).isEqualTo((byte)42);
    }

    /** Accepts one connection on {@code server} and echoes one byte. */
    private static Thread echoServer(final ServerSocketChannel server)
    {
        return Thread.ofPlatform().start(() ->
        {
            try (SocketChannel accepted = server.accept())
            {
                final ByteBuffer buffer = ByteBuffer.allocate(1);
                accepted.read(buffer);
                accepted.write(buffer.flip());
            }
            catch (final java.io.IOException ex)
            {
                throw new IllegalStateException(ex);
            }
        });
    }

    @Test
    void shouldSteerVipTrafficToXskWhileKernelAnswersArpAndItsOwnTraffic() throws Exception
    {
        steering.addVip(ip("198.18.0.100"), 5353, VipKey.IPPROTO_UDP, XdpSteering.Action.REDIRECT);

        // B has no neighbour entry for the VIP: its ARP request must reach A's kernel and be answered.
        network.ip(nsB, "neigh", "flush", "dev", ifB);
        sendUdp("198.18.0.100", 5353);
        assertThat(nextXskUdpPort()).isEqualTo(5353);
        assertThat(steering.count(SteeringCounter.REDIRECT_VIP)).isEqualTo(1);
        assertThat(steering.count(SteeringCounter.PASS_UNMATCHED)).as("ARP went to the kernel").isPositive();

        try (ServerSocketChannel server = NetNs.call(nsA, ServerSocketChannel::open))
        {
            server.bind(new InetSocketAddress("198.18.0.1", 8080));
            final Thread serverThread = echoServer(server);
            try (SocketChannel client = NetNs.call(nsB, SocketChannel::open))
            {
                client.connect(new InetSocketAddress("198.18.0.1", 8080));
                echoOnce(client);
            }
            serverThread.join(5000);
        }
    }

    @Test
    void shouldLetKernelConnectFromLocalAddressOutsideSnatRange() throws Exception
    {
        steering.addLocalAddress(ip("198.18.0.10"), 40000, 50000);
        try (ServerSocketChannel server = NetNs.call(nsB, ServerSocketChannel::open))
        {
            server.bind(new InetSocketAddress("198.18.0.2", 8081));
            final Thread serverThread = echoServer(server);
            try (SocketChannel client = NetNs.call(nsA, SocketChannel::open))
            {
                client.bind(new InetSocketAddress("198.18.0.10", 31000));
                client.connect(new InetSocketAddress("198.18.0.2", 8081));
                echoOnce(client);
            }
            serverThread.join(5000);
        }
        assertThat(steering.count(SteeringCounter.PASS_LOCAL)).as("the SYN-ACK and the echo went to the kernel").isPositive();

        sendUdp("198.18.0.10", 45000);
        assertThat(nextXskUdpPort()).as("inside the SNAT range: to the XSK").isEqualTo(45000);
        assertThat(steering.count(SteeringCounter.REDIRECT_LOCAL)).isEqualTo(1);
    }

    @Test
    void shouldSteerIpv6VipTrafficWhileNeighbourDiscoveryReachesTheKernel() throws Exception
    {
        steering.addVip(ip("2001:2::100"), 5353, VipKey.IPPROTO_UDP, XdpSteering.Action.REDIRECT);
        network.ip(nsB, "neigh", "flush", "dev", ifB);
        // B must resolve the VIP by neighbour solicitation first: ND passes to A's kernel, which advertises.
        sendUdp("2001:2::100", 5353);
        assertThat(nextXskUdpPort(14 + 40 + 2)).isEqualTo(5353);
        assertThat(steering.count(SteeringCounter.REDIRECT_VIP)).isEqualTo(1);
        assertThat(steering.count(SteeringCounter.PASS_UNMATCHED)).as("ND went to the kernel").isPositive();
    }

    @Test
    void shouldSteerInGenericModeToo() throws Exception
    {
        steering.close();
        steering = NetNs.call(nsA, () -> XdpSteering.attach(ifA, XdpMode.GENERIC));
        steering.registerXsk(0, xsk.fd());
        steering.addVip(ip("198.18.0.100"), 5454, VipKey.IPPROTO_UDP, XdpSteering.Action.REDIRECT);
        assertThat(TestNetwork.run("ip", "-n", nsA, "link", "show", "dev", ifA)).contains("xdpgeneric");
        sendUdp("198.18.0.100", 5454);
        assertThat(nextXskUdpPort()).isEqualTo(5454);
    }

    @Test
    void shouldHandTrafficBackToKernelWhenVipIsRemoved() throws Exception
    {
        try (DatagramChannel kernelSocket = NetNs.call(nsA, DatagramChannel::open))
        {
            kernelSocket.bind(new InetSocketAddress("198.18.0.100", 6000));
            kernelSocket.configureBlocking(false);
            steering.addVip(ip("198.18.0.100"), 6000, VipKey.IPPROTO_UDP, XdpSteering.Action.REDIRECT);
            sendUdp("198.18.0.100", 6000);
            assertThat(nextXskUdpPort()).isEqualTo(6000);
            assertThat(receive(kernelSocket, 200_000_000L)).as("the kernel did not see the steered datagram").isNull();

            assertThat(steering.removeVip(ip("198.18.0.100"), 6000, VipKey.IPPROTO_UDP)).isTrue();
            sendUdp("198.18.0.100", 6000);
            final ByteBuffer received = receive(kernelSocket, 5_000_000_000L);
            assertThat(received).as("after removal the kernel socket gets it").isNotNull();
            assertThat(received.remaining()).isEqualTo(3);
        }
    }
}
