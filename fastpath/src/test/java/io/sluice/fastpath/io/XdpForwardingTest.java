package io.sluice.fastpath.io;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.SystemNanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.sluice.fastpath.Conductor;
import io.sluice.fastpath.FastpathCounter;
import io.sluice.fastpath.ForwarderConfiguration;
import io.sluice.fastpath.NeighbourCache;
import io.sluice.fastpath.config.Backend;
import io.sluice.fastpath.config.Listener;
import io.sluice.fastpath.config.ListenerKey;
import io.sluice.fastpath.config.NodeSettings;
import io.sluice.fastpath.config.Protocol;
import io.sluice.fastpath.packet.IpAddresses;
import io.sluice.nativeio.Libc;
import io.sluice.nativeio.NetNs;
import io.sluice.nativeio.netlink.Netlink;
import io.sluice.nativeio.packet.XskPacketIo;
import io.sluice.nativeio.xdp.Umem;
import io.sluice.nativeio.xdp.UmemConfig;
import io.sluice.nativeio.xdp.VipKey;
import io.sluice.nativeio.xdp.XdpMode;
import io.sluice.nativeio.xdp.XdpSteering;
import io.sluice.nativeio.xdp.XskConfig;
import io.sluice.nativeio.xdp.XskSocket;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real forwarder over AF_XDP between two namespaces: {@code fp<pid>c} holds the client (198.18.0.2) and the backends
 * (198.18.0.3), {@code fp<pid>l} the load balancer (VIP 198.18.0.100, local address 198.18.0.10) with the XDP steering
 * program and one AF_XDP socket. The client's veth keeps TX checksum offload on, so frames reach the forwarder with
 * partial checksums and the kernel on the other side verifies what it sends.
 */
class XdpForwardingTest
{
    private static final String VIP = "198.18.0.100";
    private static final String LOCAL = "198.18.0.10";
    private static final String CLIENT = "198.18.0.2";
    private static final String BACKEND = "198.18.0.3";
    private static final String VIP6 = "2001:2::100";
    private static final String LOCAL6 = "2001:2::10";
    private static final String CLIENT6 = "2001:2::2";
    private static final String BACKEND6 = "2001:2::3";

    private static final String PREFIX = "fp" + ProcessHandle.current().pid();
    private static final String NS_CLIENT = PREFIX + "c";
    private static final String NS_LB = PREFIX + "l";
    private static final String IF_CLIENT = PREFIX + "c";
    private static final String IF_LB = PREFIX + "l";

    private static Umem umem;
    private static XdpSteering steering;
    private static PacketIoPort port;
    private static Conductor conductor;
    private static List<AgentRunner> runners = List.of();
    private static CountersManager counters;

    @BeforeAll
    static void setUp() throws Exception
    {
        try
        {
            Namespaces.add(NS_CLIENT);
            Namespaces.add(NS_LB);
            Namespaces.run("ip", "-n", NS_LB, "link", "add", IF_LB, "type", "veth", "peer", "name", IF_CLIENT, "netns", NS_CLIENT);
            Namespaces.run("ip", "-n", NS_LB, "link", "set", IF_LB, "up");
            Namespaces.run("ip", "-n", NS_CLIENT, "link", "set", IF_CLIENT, "up");
            Namespaces.run("ip", "-n", NS_LB, "addr", "add", "198.18.0.1/24", "dev", IF_LB);
            Namespaces.run("ip", "-n", NS_LB, "addr", "add", VIP + "/32", "dev", IF_LB);
            Namespaces.run("ip", "-n", NS_LB, "addr", "add", LOCAL + "/32", "dev", IF_LB);
            Namespaces.run("ip", "-n", NS_CLIENT, "addr", "add", CLIENT + "/24", "dev", IF_CLIENT);
            Namespaces.run("ip", "-n", NS_CLIENT, "addr", "add", BACKEND + "/24", "dev", IF_CLIENT);
            Namespaces.run("ip", "-n", NS_LB, "addr", "add", "2001:2::1/64", "dev", IF_LB, "nodad");
            Namespaces.run("ip", "-n", NS_LB, "addr", "add", VIP6 + "/128", "dev", IF_LB, "nodad");
            Namespaces.run("ip", "-n", NS_LB, "addr", "add", LOCAL6 + "/128", "dev", IF_LB, "nodad");
            Namespaces.run("ip", "-n", NS_CLIENT, "addr", "add", CLIENT6 + "/64", "dev", IF_CLIENT, "nodad");
            Namespaces.run("ip", "-n", NS_CLIENT, "addr", "add", BACKEND6 + "/64", "dev", IF_CLIENT, "nodad");

            final byte[] lbMac = NetNs.call(NS_LB, () ->
            {
                try (Netlink netlink = new Netlink())
                {
                    return netlink.link(IF_LB).mac();
                }
            });
            final byte[] clientMac = NetNs.call(NS_CLIENT, () ->
            {
                try (Netlink netlink = new Netlink())
                {
                    return netlink.link(IF_CLIENT).mac();
                }
            });

            umem = Umem.allocate(new UmemConfig(1024, 2048, 0, false));
            final XskSocket xsk = NetNs.call(NS_LB, () -> XskSocket.open(umem, Libc.ifNameToIndex(IF_LB), 0,
                XskConfig.defaults().withBindMode(XskConfig.BindMode.COPY)));
            steering = NetNs.call(NS_LB, () -> XdpSteering.attach(IF_LB, XdpMode.NATIVE));
            steering.addVip(IpAddresses.parse(VIP), 80, VipKey.IPPROTO_TCP, XdpSteering.Action.REDIRECT);
            steering.addVip(IpAddresses.parse(VIP), 53, VipKey.IPPROTO_UDP, XdpSteering.Action.REDIRECT);
            steering.addLocalAddress(IpAddresses.parse(LOCAL), NodeSettings.DEFAULT_SNAT_PORT_MIN, NodeSettings.DEFAULT_SNAT_PORT_MAX);
            steering.addVip(IpAddresses.parse(VIP6), 53, VipKey.IPPROTO_UDP, XdpSteering.Action.REDIRECT);
            steering.addLocalAddress(IpAddresses.parse(LOCAL6), NodeSettings.DEFAULT_SNAT_PORT_MIN, NodeSettings.DEFAULT_SNAT_PORT_MAX);
            steering.registerXsk(0, xsk.fd());
            port = new PacketIoPort(new XskPacketIo(xsk), PacketIoPort.mac(lbMac));

            final NeighbourCache neighbours = new NeighbourCache();
            neighbours.put(IpAddresses.parse(CLIENT), PacketIoPort.mac(clientMac));
            neighbours.put(IpAddresses.parse(BACKEND), PacketIoPort.mac(clientMac));
            neighbours.put(IpAddresses.parse(CLIENT6), PacketIoPort.mac(clientMac));
            neighbours.put(IpAddresses.parse(BACKEND6), PacketIoPort.mac(clientMac));
            counters = new CountersManager(new UnsafeBuffer(new byte[1 << 20]), new UnsafeBuffer(new byte[1 << 18]));
            conductor = new Conductor(NodeSettings.of(1, 4096, LOCAL, LOCAL6), ForwarderConfiguration.DEFAULT, counters, neighbours,
                List.of(port), new SystemNanoClock());
            conductor.addListener(Listener.of("web", ListenerKey.of(VIP, Protocol.TCP, 80),
                List.of(Backend.of(BACKEND, 8080, 100))));
            conductor.addListener(Listener.of("dns", ListenerKey.of(VIP, Protocol.UDP, 53),
                List.of(Backend.of(BACKEND, 5353, 100))));
            conductor.addListener(Listener.of("dns6", ListenerKey.of(VIP6, Protocol.UDP, 53),
                List.of(Backend.of(BACKEND6, 5353, 100))));
            runners = conductor.start(() -> new BackoffIdleStrategy(10, 10, TimeUnit.MICROSECONDS.toNanos(10),
                TimeUnit.MILLISECONDS.toNanos(1)), Throwable::printStackTrace, null);
        }
        catch (final Exception | Error ex)
        {
            tearDown();
            throw ex;
        }
    }

    @AfterAll
    static void tearDown()
    {
        runners.forEach(AgentRunner::close);
        if (port != null)
        {
            port.close();
        }
        if (steering != null)
        {
            steering.close();
        }
        if (umem != null)
        {
            umem.close();
        }
        Namespaces.deleteAll();
    }

    @Test
    void shouldCarryAUdpRequestAndItsResponseThroughFullNat() throws Exception
    {
        udpRoundTrip(CLIENT, VIP, BACKEND, LOCAL);
    }

    @Test
    void shouldCarryAUdpRequestAndItsResponseThroughFullNatOverIpv6() throws Exception
    {
        udpRoundTrip(CLIENT6, VIP6, BACKEND6, LOCAL6);
    }

    private static void udpRoundTrip(final String clientAddress, final String vip, final String backendAddress,
        final String local) throws Exception
    {
        try (DatagramChannel backend = NetNs.call(NS_CLIENT, DatagramChannel::open);
            DatagramChannel client = NetNs.call(NS_CLIENT, DatagramChannel::open))
        {
            backend.bind(new InetSocketAddress(backendAddress, 5353));
            backend.configureBlocking(false);
            client.bind(new InetSocketAddress(clientAddress, 0));
            client.configureBlocking(false);

            final ByteBuffer request = ByteBuffer.allocate(256);
            InetSocketAddress from = null;
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (from == null && System.nanoTime() < deadline)
            {
                // Resend until it arrives: the first datagram may wait on ARP/ND for the VIP.
                client.send(ByteBuffer.wrap("query".getBytes(StandardCharsets.US_ASCII)), new InetSocketAddress(vip, 53));
                final long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200);
                while (from == null && System.nanoTime() < until)
                {
                    from = (InetSocketAddress)backend.receive(request);
                    LockSupport.parkNanos(1_000_000);
                }
            }
            assertThat(from).as("the backend got the request").isNotNull();
            assertThat(from.getAddress()).isEqualTo(IpAddresses.parse(local));
            assertThat(new String(request.array(), 0, request.position(), StandardCharsets.US_ASCII)).isEqualTo("query");

            backend.send(ByteBuffer.wrap("answer".getBytes(StandardCharsets.US_ASCII)), from);
            final ByteBuffer response = ByteBuffer.allocate(256);
            InetSocketAddress responder = null;
            final long responseDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (responder == null && System.nanoTime() < responseDeadline)
            {
                responder = (InetSocketAddress)client.receive(response);
                LockSupport.parkNanos(1_000_000);
            }
            assertThat(responder).as("the client got the answer").isNotNull();
            assertThat(responder).isEqualTo(new InetSocketAddress(IpAddresses.parse(vip), 53));
            assertThat(new String(response.array(), 0, response.position(), StandardCharsets.US_ASCII)).isEqualTo("answer");
        }
    }

    @Test
    void shouldCarryATcpConnectionWithTheRightBytesBothWays() throws Exception
    {
        try (ServerSocketChannel server = NetNs.call(NS_CLIENT, ServerSocketChannel::open))
        {
            server.bind(new InetSocketAddress(BACKEND, 8080));
            final SocketChannel client = NetNs.call(NS_CLIENT, SocketChannel::open);
            try (client)
            {
                client.socket().connect(new InetSocketAddress(VIP, 80), 10_000);
                client.socket().setSoTimeout(10_000);
                try (SocketChannel accepted = server.accept())
                {
                    assertThat(((InetSocketAddress)accepted.getRemoteAddress()).getAddress().getHostAddress()).isEqualTo(LOCAL);
                    final byte[] request = new byte[100_000];
                    for (int i = 0; i < request.length; i++)
                    {
                        request[i] = (byte)(i * 31);
                    }
                    client.write(ByteBuffer.wrap(request));
                    final ByteBuffer received = ByteBuffer.allocate(request.length);
                    while (received.hasRemaining() && accepted.read(received) >= 0)
                    {
                        Thread.onSpinWait();
                    }
                    assertThat(received.array()).isEqualTo(request);

                    accepted.write(ByteBuffer.wrap("HTTP/1.1 200 OK\r\n\r\nhello".getBytes(StandardCharsets.US_ASCII)));
                    accepted.shutdownOutput();
                    final ByteBuffer response = ByteBuffer.allocate(256);
                    while (client.read(response) >= 0)
                    {
                        Thread.onSpinWait();
                    }
                    assertThat(new String(response.array(), 0, response.position(), StandardCharsets.US_ASCII))
                        .isEqualTo("HTTP/1.1 200 OK\r\n\r\nhello");
                }
            }
        }
        assertThat(counterValue(FastpathCounter.NEW_SESSIONS.label())).isGreaterThanOrEqualTo(1);
        assertThat(counterValue(FastpathCounter.DROP_MALFORMED.label())).isZero();
    }

    private static long counterValue(final String label)
    {
        final long[] value = {-1};
        counters.forEach((id, typeId, key, l) ->
        {
            if (l.equals(label))
            {
                value[0] = counters.getCounterValue(id);
            }
        });
        return value[0];
    }
}
