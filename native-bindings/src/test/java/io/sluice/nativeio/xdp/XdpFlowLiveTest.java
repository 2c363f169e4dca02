package io.sluice.nativeio.xdp;

import io.sluice.nativeio.Libc;
import io.sluice.nativeio.NetNs;
import io.sluice.nativeio.TestNetwork;
import io.sluice.nativeio.netlink.Ethtool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.HexFormat;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static io.sluice.nativeio.TestPackets.ip;
import static io.sluice.nativeio.xdp.FlowFrames.UDP;
import static io.sluice.nativeio.xdp.FlowFrames.high;
import static io.sluice.nativeio.xdp.FlowFrames.low;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * The flow offload on real veths: client namespace A (198.18.1.1, 2001:2:0:1::1) ↔ LB (…1.2 and the VIP …1.100 on
 * one veth, the local address …2.2 on the other) ↔ backend namespace B (…2.1); IPv6 likewise in 2001:2:0:1::/64
 * and 2001:2:0:2::/64. The steering program with one
 * shared {@link XdpFlowTable} runs natively on both of LB's veths; LB has no socket on the VIP and does not forward,
 * so a datagram reaches B only when the program rewrites and redirects it.
 * <p>
 * GRO is switched on for A's and B's veths: a frame redirected into a veth (veth_xdp_xmit) is only received when
 * the peer has NAPI, which a veth runs with GRO on (or with an XDP program of its own); without it the redirect
 * fails and the frame is dropped. TX checksum offload is off on A and B so that their frames carry complete checksums
 * (a partial one is left to the forwarder, see {@link SteeringProgram}).
 */
class XdpFlowLiveTest
{
    private static final Pattern ADDRESS = Pattern.compile("\"address\"\\s*:\\s*\"([0-9a-f:]{17})\"");
    private static final int CLIENT_PORT = 41000;
    private static final int VIP_PORT = 5353;
    private static final int LOCAL_PORT = 40000;
    private static final int BACKEND_PORT = 7000;

    private static TestNetwork network;
    private static String nsA;
    private static String nsL;
    private static String nsB;
    private static String ifA;
    private static String ifLa;
    private static String ifLb;
    private static String ifB;

    @BeforeAll
    static void setUpNetwork()
    {
        network = new TestNetwork("xf");
        nsA = network.namespace("a");
        nsL = network.namespace("l");
        nsB = network.namespace("b");
        ifA = network.name("a");
        ifLa = network.name("la");
        ifLb = network.name("lb");
        ifB = network.name("b");
        network.veth(nsA, ifA, nsL, ifLa);
        network.veth(nsB, ifB, nsL, ifLb);
        network.ip(nsA, "addr", "add", "198.18.1.1/24", "dev", ifA);
        network.ip(nsL, "addr", "add", "198.18.1.2/24", "dev", ifLa);
        network.ip(nsL, "addr", "add", "198.18.1.100/32", "dev", ifLa);
        network.ip(nsL, "addr", "add", "198.18.2.2/24", "dev", ifLb);
        network.ip(nsB, "addr", "add", "198.18.2.1/24", "dev", ifB);
        network.ip(nsA, "addr", "add", "2001:2:0:1::1/64", "dev", ifA, "nodad");
        network.ip(nsL, "addr", "add", "2001:2:0:1::2/64", "dev", ifLa, "nodad");
        network.ip(nsL, "addr", "add", "2001:2:0:1::100/128", "dev", ifLa, "nodad");
        network.ip(nsL, "addr", "add", "2001:2:0:2::2/64", "dev", ifLb, "nodad");
        network.ip(nsB, "addr", "add", "2001:2:0:2::1/64", "dev", ifB, "nodad");
        TestNetwork.run("ip", "netns", "exec", nsA, "ethtool", "-K", ifA, "gro", "on");
        TestNetwork.run("ip", "netns", "exec", nsB, "ethtool", "-K", ifB, "gro", "on");
        NetNs.run(nsA, () -> Ethtool.txChecksumOffload(ifA, false));
        NetNs.run(nsB, () -> Ethtool.txChecksumOffload(ifB, false));
    }

    @AfterAll
    static void tearDownNetwork()
    {
        network.close();
    }

    private static long mac(final String ns, final String ifname)
    {
        final Matcher matcher = ADDRESS.matcher(TestNetwork.run("ip", "-n", ns, "-j", "link", "show", "dev", ifname));
        assertThat(matcher.find()).as("MAC of " + ifname).isTrue();
        return HexFormat.fromHexDigitsToLong(matcher.group(1).replace(":", ""));
    }

    private static ByteBuffer receive(final DatagramChannel channel, final long timeoutNs, final SocketAddress[] from)
        throws Exception
    {
        final ByteBuffer buffer = ByteBuffer.allocate(256);
        final long deadline = System.nanoTime() + timeoutNs;
        while (System.nanoTime() < deadline)
        {
            final SocketAddress sender = channel.receive(buffer);
            if (sender != null)
            {
                from[0] = sender;
                return buffer.flip();
            }
            LockSupport.parkNanos(1_000_000);
        }
        return null;
    }

    static Stream<Arguments> families()
    {
        return Stream.of(
            arguments("IPv4", ip("198.18.1.1"), ip("198.18.1.100"), ip("198.18.2.2"), ip("198.18.2.1"), 20),
            arguments("IPv6", ip("2001:2:0:1::1"), ip("2001:2:0:1::100"), ip("2001:2:0:2::2"), ip("2001:2:0:2::1"), 40));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("families")
    void shouldForwardAnEstablishedUdpFlowInTheDriverBothWaysUntilDeleted(final String family, final InetAddress client,
        final InetAddress vip, final InetAddress local, final InetAddress backend, final int ipHeader) throws Exception
    {
        final int ifindexLa = NetNs.call(nsL, () -> Libc.ifNameToIndex(ifLa));
        final int ifindexLb = NetNs.call(nsL, () -> Libc.ifNameToIndex(ifLb));
        try (XdpFlowTable table = XdpFlowTable.create(64, 4);
            XdpSteering clientSide = NetNs.call(nsL, () -> XdpSteering.attach(ifLa, XdpMode.NATIVE, table));
            XdpSteering backendSide = NetNs.call(nsL, () -> XdpSteering.attach(ifLb, XdpMode.NATIVE, table));
            DatagramChannel clientSocket = NetNs.call(nsA, DatagramChannel::open);
            DatagramChannel backendSocket = NetNs.call(nsB, DatagramChannel::open))
        {
            clientSocket.bind(new InetSocketAddress(client, CLIENT_PORT)).configureBlocking(false);
            backendSocket.bind(new InetSocketAddress(backend, BACKEND_PORT)).configureBlocking(false);
            final XdpFlowTable.Writer writer = table.writer();
            assertThat(writer.put(high(client), low(client), high(vip), low(vip), CLIENT_PORT, VIP_PORT, UDP,
                high(local), low(local), high(backend), low(backend), LOCAL_PORT, BACKEND_PORT, mac(nsB, ifB),
                mac(nsL, ifLb), ifindexLb, table.epoch(), 0, 1, true)).isTrue();
            assertThat(writer.put(high(backend), low(backend), high(local), low(local), BACKEND_PORT, LOCAL_PORT, UDP,
                high(vip), low(vip), high(client), low(client), VIP_PORT, CLIENT_PORT, mac(nsA, ifA), mac(nsL, ifLa),
                ifindexLa, table.epoch(), 0, 1, false)).isTrue();

            final SocketAddress[] from = new SocketAddress[1];
            clientSocket.send(ByteBuffer.wrap(new byte[] {1, 2, 3}), new InetSocketAddress(vip, VIP_PORT));
            final ByteBuffer atBackend = receive(backendSocket, 5_000_000_000L, from);
            assertThat(atBackend).as("the datagram reached B through the offload").isNotNull();
            assertThat(atBackend.remaining()).isEqualTo(3);
            assertThat(from[0]).as("source rewritten to LB's local address").isEqualTo(new InetSocketAddress(local, LOCAL_PORT));

            backendSocket.send(ByteBuffer.wrap(new byte[] {4, 5}), from[0]);
            final ByteBuffer atClient = receive(clientSocket, 5_000_000_000L, from);
            assertThat(atClient).as("B's reply reached A through the offload").isNotNull();
            assertThat(atClient.remaining()).isEqualTo(2);
            assertThat(from[0]).as("the reply comes from the VIP").isEqualTo(new InetSocketAddress(vip, VIP_PORT));

            assertThat(clientSide.count(SteeringCounter.OFFLOAD_FORWARDED)).isEqualTo(1);
            assertThat(backendSide.count(SteeringCounter.OFFLOAD_FORWARDED)).isEqualTo(1);
            final long[] slot = new long[4];
            table.counters(1, slot);
            assertThat(slot).containsExactly(1, ipHeader + 8 + 3, 1, ipHeader + 8 + 2);
            assertThat(writer.lastSeen(high(client), low(client), high(vip), low(vip), CLIENT_PORT, VIP_PORT, UDP)).isPositive();

            assertThat(writer.delete(high(client), low(client), high(vip), low(vip), CLIENT_PORT, VIP_PORT, UDP)).isTrue();
            final long unmatchedBefore = clientSide.count(SteeringCounter.PASS_UNMATCHED);
            clientSocket.send(ByteBuffer.wrap(new byte[] {6}), new InetSocketAddress(vip, VIP_PORT));
            assertThat(receive(backendSocket, 300_000_000L, from)).as("after delete: to LB's kernel, which has no socket there").isNull();
            assertThat(clientSide.count(SteeringCounter.PASS_UNMATCHED)).as("steered the normal way").isGreaterThan(unmatchedBefore);
            assertThat(clientSide.count(SteeringCounter.OFFLOAD_FORWARDED)).isEqualTo(1);
        }
    }
}
