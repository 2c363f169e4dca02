package io.sluice.nativeio.packet;

import io.sluice.nativeio.Libc;
import io.sluice.nativeio.NetNs;
import io.sluice.nativeio.TestNetwork;
import io.sluice.nativeio.netlink.Ethtool;
import io.sluice.nativeio.netlink.Netlink;
import io.sluice.nativeio.xdp.SteeringCounter;
import io.sluice.nativeio.xdp.Umem;
import io.sluice.nativeio.xdp.UmemConfig;
import io.sluice.nativeio.xdp.VipKey;
import io.sluice.nativeio.xdp.XdpMode;
import io.sluice.nativeio.xdp.XdpSteering;
import io.sluice.nativeio.xdp.XskConfig;
import io.sluice.nativeio.xdp.XskSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.locks.LockSupport;

import static io.sluice.nativeio.TestPackets.frame;
import static io.sluice.nativeio.TestPackets.ip;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The same PacketIo contract over AF_PACKET and AF_XDP, and AF_PACKET's RST suppression by the tc steering program. */
class PacketIoTest
{
    private static TestNetwork network;
    private static String nsA;
    private static String nsB;
    private static String ifA;
    private static String ifB;
    private static byte[] macA;
    private static byte[] macB;

    @BeforeAll
    static void setUp()
    {
        network = new TestNetwork();
        nsA = network.namespace("pa");
        nsB = network.namespace("pb");
        ifA = network.name("pa");
        ifB = network.name("pb");
        network.veth(nsA, ifA, nsB, ifB);
        network.ip(nsA, "addr", "add", "198.18.0.1/24", "dev", ifA);
        network.ip(nsA, "addr", "add", "198.18.0.100/32", "dev", ifA);
        network.ip(nsB, "addr", "add", "198.18.0.2/24", "dev", ifB);
        macA = NetNs.call(nsA, () ->
        {
            try (Netlink netlink = new Netlink())
            {
                return netlink.link(ifA).mac();
            }
        });
        macB = NetNs.call(nsB, () ->
        {
            Ethtool.txChecksumOffload(ifB, false);
            try (Netlink netlink = new Netlink())
            {
                return netlink.link(ifB).mac();
            }
        });
    }

    @AfterAll
    static void tearDown()
    {
        network.close();
    }

    /** @return the UDP payload of the next IPv4/UDP frame to {@code port}, or null after 5 s. */
    private static String receiveUdp(final PacketIo io, final int port)
    {
        final String[] found = new String[1];
        final long deadline = System.nanoTime() + 5_000_000_000L;
        while (found[0] == null && System.nanoTime() < deadline)
        {
            final int n = io.receive((buffer, offset, length) ->
            {
                final byte[] bytes = buffer.asSlice(offset, length).toArray(JAVA_BYTE);
                if (length >= 42 && bytes[12] == 0x08 && bytes[13] == 0 && bytes[23] == 17
                    && ((bytes[36] & 0xff) << 8 | bytes[37] & 0xff) == port)
                {
                    found[0] = new String(bytes, 42, length - 42, StandardCharsets.US_ASCII);
                }
            }, 64);
            if (n == 0)
            {
                LockSupport.parkNanos(1_000_000);
            }
        }
        return found[0];
    }

    @Test
    void shouldBeAvailableOnTheseMachines()
    {
        assertThat(AfPacketSocket.unavailabilityCause()).isNull();
        assertThat(AfPacketSocket.isAvailable()).isTrue();
        assertThat(XskSocket.unavailabilityCause()).isNull();
        assertThat(XskSocket.isAvailable()).isTrue();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"af_packet", "af_xdp"})
    void shouldReceiveAndSendFramesThroughPacketIo(final String kind) throws Exception
    {
        Umem umem = null;
        XdpSteering steering = null;
        final PacketIo io;
        if ("af_packet".equals(kind))
        {
            io = NetNs.call(nsA, () -> new AfPacketSocket(Libc.ifNameToIndex(ifA), 1 << 16, 8, 2));
        }
        else
        {
            umem = Umem.allocate(new UmemConfig(512, 2048, 0, false));
            final Umem u = umem;
            final XskSocket xsk = NetNs.call(nsA, () -> XskSocket.open(u, Libc.ifNameToIndex(ifA), 0,
                XskConfig.defaults().withBindMode(XskConfig.BindMode.COPY)));
            steering = NetNs.call(nsA, () -> XdpSteering.attach(ifA, XdpMode.NATIVE));
            steering.addVip(ip("198.18.0.1"), 5000, VipKey.IPPROTO_UDP, XdpSteering.Action.REDIRECT);
            steering.registerXsk(0, xsk.fd());
            io = new XskPacketIo(xsk);
        }
        try (DatagramChannel peer = NetNs.call(nsB, DatagramChannel::open))
        {
            assertThat(io.kind()).isEqualTo(kind);
            peer.bind(new InetSocketAddress("198.18.0.2", 9999));
            peer.configureBlocking(false);
            peer.send(ByteBuffer.wrap(("to " + kind).getBytes(StandardCharsets.US_ASCII)), new InetSocketAddress("198.18.0.1", 5000));
            assertThat(receiveUdp(io, 5000)).isEqualTo("to " + kind);

            final byte[] packet = frame().macs(macA, macB).ip("198.18.0.1", "198.18.0.2")
                .udp(5000, 9999, ("from " + kind).getBytes(StandardCharsets.US_ASCII)).build();
            assertThat(io.send(MemorySegment.ofArray(packet), 0, packet.length)).isTrue();
            assertThat(io.flush()).isGreaterThanOrEqualTo(0);
            final ByteBuffer reply = ByteBuffer.allocate(64);
            final long deadline = System.nanoTime() + 5_000_000_000L;
            while (peer.receive(reply) == null && System.nanoTime() < deadline)
            {
                LockSupport.parkNanos(1_000_000);
            }
            assertThat(new String(reply.array(), 0, reply.position(), StandardCharsets.US_ASCII)).isEqualTo("from " + kind);
        }
        finally
        {
            io.close();
            if (steering != null)
            {
                steering.close();
            }
            if (umem != null)
            {
                umem.close();
            }
        }
    }

    @Test
    void shouldTransmitMoreFramesThanTheKernelCopyBudgetInOneFlush() throws Exception
    {
        final int frames = 8 * XskPacketIo.COPY_MODE_TX_BUDGET + 5;
        try (Umem umem = Umem.allocate(new UmemConfig(1024, 2048, 0, false));
            DatagramChannel peer = NetNs.call(nsB, DatagramChannel::open))
        {
            peer.bind(new InetSocketAddress("198.18.0.2", 9998));
            peer.configureBlocking(false);
            peer.setOption(java.net.StandardSocketOptions.SO_RCVBUF, 1 << 20);
            final XskSocket xsk = NetNs.call(nsA, () -> XskSocket.open(umem, Libc.ifNameToIndex(ifA), 0,
                XskConfig.defaults().withBindMode(XskConfig.BindMode.COPY)));
            final XskPacketIo io = new XskPacketIo(xsk);
            try
            {
                final byte[] packet = frame().macs(macA, macB).ip("198.18.0.1", "198.18.0.2")
                    .udp(5000, 9998, "batch".getBytes(StandardCharsets.US_ASCII)).build();
                for (int i = 0; i < frames; i++)
                {
                    assertThat(io.send(MemorySegment.ofArray(packet), 0, packet.length)).isTrue();
                }
                assertThat(io.flush()).isEqualTo(frames);
                // One flush pushed all of them through the kernel, not one budget's worth.
                assertThat(xsk.tx().outstanding()).isZero();
                assertThat(io.kicks()).isBetween(2L, (long)frames / XskPacketIo.COPY_MODE_TX_BUDGET + 2);

                int received = 0;
                final ByteBuffer datagram = ByteBuffer.allocate(64);
                final long deadline = System.nanoTime() + 5_000_000_000L;
                while (received < frames && System.nanoTime() < deadline)
                {
                    datagram.clear();
                    if (peer.receive(datagram) != null)
                    {
                        received++;
                    }
                    else
                    {
                        LockSupport.parkNanos(1_000_000);
                    }
                }
                assertThat(received).isEqualTo(frames);
            }
            finally
            {
                io.close();
            }
        }
    }

    private static long outRsts()
    {
        // /proc/thread-self/net is the calling thread's namespace (unlike /sys/class/net).
        return NetNs.call(nsA, () ->
        {
            final String[] lines = Files.readString(Path.of("/proc/thread-self/net/snmp")).split("\n");
            for (int i = 0; i + 1 < lines.length; i++)
            {
                if (lines[i].startsWith("Tcp:") && lines[i + 1].startsWith("Tcp:"))
                {
                    final String[] names = lines[i].trim().split("\\s+");
                    final String[] values = lines[i + 1].trim().split("\\s+");
                    for (int j = 0; j < names.length; j++)
                    {
                        if ("OutRsts".equals(names[j]))
                        {
                            return Long.parseLong(values[j]);
                        }
                    }
                }
            }
            throw new IllegalStateException("no Tcp OutRsts in snmp");
        });
    }

    /** @return true once a TCP SYN to {@code port} was seen on the packet socket (within 5 s). */
    private static boolean sawSyn(final PacketIo io, final int port)
    {
        final boolean[] seen = new boolean[1];
        final long deadline = System.nanoTime() + 5_000_000_000L;
        while (!seen[0] && System.nanoTime() < deadline)
        {
            if (io.receive((buffer, offset, length) ->
            {
                final byte[] bytes = buffer.asSlice(offset, length).toArray(JAVA_BYTE);
                if (length >= 54 && bytes[23] == 6 && ((bytes[36] & 0xff) << 8 | bytes[37] & 0xff) == port && (bytes[47] & 0x02) != 0)
                {
                    seen[0] = true;
                }
            }, 64) == 0)
            {
                LockSupport.parkNanos(1_000_000);
            }
        }
        return seen[0];
    }

    @Test
    void shouldKeepKernelFromResettingSteeredFlowsOnPacketSocket() throws Exception
    {
        try (AfPacketSocket socket = NetNs.call(nsA, () -> new AfPacketSocket(Libc.ifNameToIndex(ifA), 1 << 16, 8, 2));
            XdpSteering tc = NetNs.call(nsA, () -> XdpSteering.attachTcIngress(Libc.ifNameToIndex(ifA), 1024)))
        {
            tc.addVip(ip("198.18.0.100"), 80, VipKey.IPPROTO_TCP, XdpSteering.Action.REDIRECT);

            // Control: a port that is not steered is refused by the kernel with a RST.
            final long before = outRsts();
            try (SocketChannel refused = NetNs.call(nsB, SocketChannel::open))
            {
                assertThatThrownBy(() -> refused.connect(new InetSocketAddress("198.18.0.100", 81)))
                    .isInstanceOf(ConnectException.class);
            }
            assertThat(outRsts()).as("the kernel answers unsteered SYNs").isGreaterThan(before);

            final long steeredBefore = outRsts();
            try (SocketChannel steered = NetNs.call(nsB, SocketChannel::open))
            {
                steered.configureBlocking(false);
                steered.connect(new InetSocketAddress("198.18.0.100", 80));
                assertThat(sawSyn(socket, 80)).as("the packet socket got the SYN").isTrue();
                assertThat(outRsts()).as("no RST for the steered SYN").isEqualTo(steeredBefore);
                assertThat(steered.isConnectionPending()).isTrue();
            }
            assertThat(tc.count(SteeringCounter.REDIRECT_VIP)).isPositive();
        }
    }
}
