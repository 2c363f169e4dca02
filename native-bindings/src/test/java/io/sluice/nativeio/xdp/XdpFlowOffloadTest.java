package io.sluice.nativeio.xdp;

import io.sluice.nativeio.Libc;
import io.sluice.nativeio.NetNs;
import io.sluice.nativeio.TestNetwork;
import io.sluice.nativeio.bpf.Bpf;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.InetAddress;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;

import static io.sluice.nativeio.TestPackets.ip;
import static io.sluice.nativeio.xdp.FlowFrames.ACK;
import static io.sluice.nativeio.xdp.FlowFrames.FIN;
import static io.sluice.nativeio.xdp.FlowFrames.RST;
import static io.sluice.nativeio.xdp.FlowFrames.SYN;
import static io.sluice.nativeio.xdp.FlowFrames.TCP;
import static io.sluice.nativeio.xdp.FlowFrames.UDP;
import static io.sluice.nativeio.xdp.FlowFrames.frame;
import static io.sluice.nativeio.xdp.FlowFrames.high;
import static io.sluice.nativeio.xdp.FlowFrames.low;
import static io.sluice.nativeio.xdp.FlowFrames.mac;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * The steering program with an {@link XdpFlowTable}, through BPF_PROG_TEST_RUN: which frames the established-flow
 * offload rewrites (the exact output frame, checksums recomputed from scratch) and redirects, and which it leaves
 * untouched to today's steering (a VIP entry with REDIRECT: XDP_PASS here, as no XSK is registered).
 */
class XdpFlowOffloadTest
{
    static final InetAddress CLIENT4 = ip("198.18.0.1");
    static final InetAddress VIP4 = ip("198.18.0.100");
    static final InetAddress LOCAL4 = ip("198.18.2.10");
    static final InetAddress BACKEND4 = ip("198.18.3.5");
    static final InetAddress CLIENT6 = ip("2001:2::1");
    static final InetAddress VIP6 = ip("2001:2::100");
    static final InetAddress LOCAL6 = ip("2001:2::2:10");
    static final InetAddress BACKEND6 = ip("2001:2::3:5");
    static final byte[] MAC_CLIENT = {0x02, 0, 0, 0, 0x0a, 0x01};
    static final byte[] MAC_LB_IN = {0x02, 0, 0, 0, 0x0a, 0x02};
    static final byte[] MAC_LB_OUT = {0x02, 0, 0, 0, 0x0c, 0x01};
    static final byte[] MAC_BACKEND = {0x02, 0, 0, 0, 0x0b, 0x01};
    static final int EGRESS = 7;
    static final int XDP_TX = 3;
    static final int XDP_REDIRECT = 4;

    private static XdpFlowTable table;
    private static XdpSteering steering;
    private static XdpFlowTable.Writer writer;

    @BeforeAll
    static void load()
    {
        table = XdpFlowTable.create(64, 8);
        steering = XdpSteering.load(4, 64, table);
        writer = table.writer();
        for (final InetAddress vip : new InetAddress[] {VIP4, VIP6})
        {
            steering.addVip(vip, 80, VipKey.IPPROTO_TCP, XdpSteering.Action.REDIRECT);
            steering.addVip(vip, 53, VipKey.IPPROTO_UDP, XdpSteering.Action.REDIRECT);
        }
        install(writer, CLIENT4, VIP4, 40000, 80, TCP, LOCAL4, BACKEND4, 33000, 8080, true, 0);
        install(writer, BACKEND4, LOCAL4, 8080, 33000, TCP, VIP4, CLIENT4, 80, 40000, false, 0);
        install(writer, CLIENT6, VIP6, 40000, 80, TCP, LOCAL6, BACKEND6, 33000, 8080, true, 0);
        install(writer, CLIENT4, VIP4, 5000, 53, UDP, LOCAL4, BACKEND4, 33001, 5353, true, 0);
        install(writer, CLIENT6, VIP6, 5000, 53, UDP, LOCAL6, BACKEND6, 33001, 5353, true, 0);
    }

    @AfterAll
    static void close()
    {
        steering.close();
        table.close();
    }

    /** Installs (src, dst, sport, dport, proto) → (newSrc, newDst, newSport, newDport) with the test's MACs. */
    static boolean install(final XdpFlowTable.Writer w, final InetAddress src, final InetAddress dst, final int sport,
        final int dport, final int proto, final InetAddress newSrc, final InetAddress newDst, final int newSport,
        final int newDport, final boolean toBackend, final int epoch)
    {
        final byte[] dstMac = toBackend ? MAC_BACKEND : MAC_CLIENT;
        final byte[] srcMac = toBackend ? MAC_LB_OUT : MAC_LB_IN;
        return w.put(high(src), low(src), high(dst), low(dst), sport, dport, proto, high(newSrc), low(newSrc), high(newDst),
            low(newDst), newSport, newDport, mac(dstMac), mac(srcMac), EGRESS, epoch, 0, 1, toBackend);
    }

    static Stream<Arguments> frames()
    {
        final FlowFrames v4Tcp = frame().addresses(CLIENT4, VIP4).tcp(40000, 80, ACK);
        final byte[] partialV4 = frame().addresses(CLIENT4, VIP4).tcp(40000, 80, ACK).checksum(FlowFrames.Checksum.PARTIAL).build();
        final byte[] fragment = v4Tcp.build();
        fragment[14 + 6] = 0x20;
        final byte[] untagged = v4Tcp.build();
        final byte[] tagged = new byte[untagged.length + 4];
        System.arraycopy(untagged, 0, tagged, 0, 12);
        tagged[12] = (byte)0x81;
        tagged[15] = 7;
        System.arraycopy(untagged, 12, tagged, 16, untagged.length - 12);
        return Stream.of(
            offloaded("IPv4 TCP ACK of an established flow", frame().addresses(CLIENT4, VIP4).tcp(40000, 80, ACK),
                frame().macs(MAC_LB_OUT, MAC_BACKEND).addresses(LOCAL4, BACKEND4).tcp(33000, 8080, ACK)),
            offloaded("IPv4 TCP ACK from the backend back to the client", frame().addresses(BACKEND4, LOCAL4).tcp(8080, 33000, ACK),
                frame().macs(MAC_LB_IN, MAC_CLIENT).addresses(VIP4, CLIENT4).tcp(80, 40000, ACK)),
            offloaded("IPv4 TCP PSH+ACK with a larger payload", frame().addresses(CLIENT4, VIP4).tcp(40000, 80, ACK | 0x08)
                .payload(new byte[333]), frame().macs(MAC_LB_OUT, MAC_BACKEND).addresses(LOCAL4, BACKEND4)
                .tcp(33000, 8080, ACK | 0x08).payload(new byte[333])),
            offloaded("IPv4 TCP ACK with IP options (IHL 7)", frame().addresses(CLIENT4, VIP4).tcp(40000, 80, ACK)
                .ipOptions(new byte[] {1, 1, 1, 1, 1, 1, 1, 0}), frame().macs(MAC_LB_OUT, MAC_BACKEND).addresses(LOCAL4, BACKEND4)
                .tcp(33000, 8080, ACK).ipOptions(new byte[] {1, 1, 1, 1, 1, 1, 1, 0})),
            offloaded("IPv6 TCP ACK of an established flow", frame().addresses(CLIENT6, VIP6).tcp(40000, 80, ACK),
                frame().macs(MAC_LB_OUT, MAC_BACKEND).addresses(LOCAL6, BACKEND6).tcp(33000, 8080, ACK)),
            offloaded("IPv4 UDP datagram", frame().addresses(CLIENT4, VIP4).udp(5000, 53),
                frame().macs(MAC_LB_OUT, MAC_BACKEND).addresses(LOCAL4, BACKEND4).udp(33001, 5353)),
            offloaded("IPv4 UDP datagram without checksum keeps 0",
                frame().addresses(CLIENT4, VIP4).udp(5000, 53).checksum(FlowFrames.Checksum.ZERO),
                frame().macs(MAC_LB_OUT, MAC_BACKEND).addresses(LOCAL4, BACKEND4).udp(33001, 5353).checksum(FlowFrames.Checksum.ZERO)),
            offloaded("IPv6 UDP datagram", frame().addresses(CLIENT6, VIP6).udp(5000, 53),
                frame().macs(MAC_LB_OUT, MAC_BACKEND).addresses(LOCAL6, BACKEND6).udp(33001, 5353)),
            offloaded("IPv4 TCP SYN-ACK from the backend (the forwarder learns the handshake from the client's stamp)",
                frame().addresses(BACKEND4, LOCAL4).tcp(8080, 33000, SYN | ACK),
                frame().macs(MAC_LB_IN, MAC_CLIENT).addresses(VIP4, CLIENT4).tcp(80, 40000, SYN | ACK)),
            untouched("TCP SYN of a flow with an entry", frame().addresses(CLIENT4, VIP4).tcp(40000, 80, SYN).build()),
            untouched("TCP FIN+ACK of a flow with an entry", frame().addresses(CLIENT4, VIP4).tcp(40000, 80, FIN | ACK).build()),
            untouched("TCP RST of a flow with an entry", frame().addresses(CLIENT4, VIP4).tcp(40000, 80, RST).build()),
            untouched("IPv6 TCP FIN of a flow with an entry", frame().addresses(CLIENT6, VIP6).tcp(40000, 80, FIN).build()),
            untouched("IPv4 TCP with a partial (pseudo-header) checksum", partialV4),
            untouched("IPv6 UDP with a partial (pseudo-header) checksum",
                frame().addresses(CLIENT6, VIP6).udp(5000, 53).checksum(FlowFrames.Checksum.PARTIAL).build()),
            untouched("IPv6 UDP with checksum 0", frame().addresses(CLIENT6, VIP6).udp(5000, 53).checksum(FlowFrames.Checksum.ZERO)
                .build()),
            untouched("IPv4 first fragment (MF) of a flow with an entry", fragment),
            untouched("802.1Q-tagged frame of a flow with an entry", tagged),
            untouched("TCP header cut short (16 of 20 bytes) of a flow with an entry", Arrays.copyOf(untagged, 14 + 20 + 16)),
            untouched("IPv4 TCP ACK with no entry (another client port)", frame().addresses(CLIENT4, VIP4).tcp(40001, 80, ACK).build()),
            untouched("IPv6 UDP with no entry (another client port)", frame().addresses(CLIENT6, VIP6).udp(5001, 53).build()),
            untouched("IPv6 UDP to the port of a TCP entry", frame().addresses(CLIENT6, VIP6).udp(40000, 80).build(),
                SteeringCounter.PASS_UNMATCHED));
    }

    private static Arguments offloaded(final String description, final FlowFrames in, final FlowFrames out)
    {
        return arguments(description, in.build(), XDP_REDIRECT, out.build(), SteeringCounter.OFFLOAD_FORWARDED);
    }

    private static Arguments untouched(final String description, final byte[] in)
    {
        return untouched(description, in, SteeringCounter.REDIRECT_VIP);
    }

    private static Arguments untouched(final String description, final byte[] in, final SteeringCounter counter)
    {
        return arguments(description, in, SteeringProgram.XDP_PASS, in.clone(), counter);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("frames")
    void shouldOffloadOnlyEstablishedFlows(final String description, final byte[] in, final int verdict, final byte[] out,
        final SteeringCounter counter)
    {
        final long[] before = steering.actionCounts();
        final Bpf.TestRun run = Bpf.testRun(steering.programFd(), in);
        final long[] after = steering.actionCounts();

        assertThat(run.retval()).as(description).isEqualTo(verdict);
        assertThat(run.dataOut()).as(description + ": output frame").isEqualTo(out);
        if (verdict == XDP_REDIRECT)
        {
            assertThat(FlowFrames.checksumsVerify(run.dataOut())).as(description + ": checksums verify from scratch").isTrue();
        }
        for (final SteeringCounter c : SteeringCounter.values())
        {
            assertThat(after[c.index()] - before[c.index()]).as(description + ": " + c).isEqualTo(c == counter ? 1 : 0);
        }
    }

    @Test
    void shouldKeepChecksumsValidForRandomTranslations() throws Exception
    {
        final long seed = 0x5175_1ceL;
        final Random random = new Random(seed);
        try (XdpFlowTable own = XdpFlowTable.create(1024, 1);
            XdpSteering withOwn = XdpSteering.load(4, 16, own))
        {
            final XdpFlowTable.Writer w = own.writer();
            for (int i = 0; i < 500; i++)
            {
                final boolean v4 = random.nextBoolean();
                final boolean tcp = random.nextBoolean();
                final InetAddress src = randomAddress(random, v4);
                final InetAddress dst = randomAddress(random, v4);
                final InetAddress newSrc = randomAddress(random, v4);
                final InetAddress newDst = randomAddress(random, v4);
                final int[] ports = {random.nextInt(65536), random.nextInt(65536), random.nextInt(65536), random.nextInt(65536)};
                final byte[] payload = new byte[random.nextInt(80)];
                random.nextBytes(payload);
                final int flags = new int[] {ACK, ACK | 0x08, 0, 0x20 | ACK}[random.nextInt(4)];
                final FlowFrames.Checksum mode = !tcp && v4 && random.nextInt(4) == 0 ? FlowFrames.Checksum.ZERO : FlowFrames.Checksum.FULL;
                final FlowFrames in = frame().addresses(src, dst).payload(payload).checksum(mode);
                final FlowFrames out = frame().macs(MAC_LB_OUT, MAC_BACKEND).addresses(newSrc, newDst).payload(payload).checksum(mode);
                if (tcp)
                {
                    in.tcp(ports[0], ports[1], flags);
                    out.tcp(ports[2], ports[3], flags);
                }
                else
                {
                    in.udp(ports[0], ports[1]);
                    out.udp(ports[2], ports[3]);
                }
                final String what = "seed " + seed + " case " + i + ": " + src + ":" + ports[0] + " > " + dst + ":" + ports[1]
                    + " as " + newSrc + ":" + ports[2] + " > " + newDst + ":" + ports[3] + (tcp ? " TCP" : " UDP");
                assertThat(install(w, src, dst, ports[0], ports[1], tcp ? TCP : UDP, newSrc, newDst, ports[2], ports[3], true, 0))
                    .isTrue();
                final byte[] input = in.build();
                final int l4 = 14 + (v4 ? 20 : 40);
                final int checksumAt = l4 + (tcp ? 16 : 6);
                if (FlowFrames.u16(input, checksumAt) == FlowFrames.fold(FlowFrames.pseudo(input)))
                {
                    // A complete checksum that happens to equal the pseudo-header fold looks partial: not offloaded.
                    continue;
                }
                final Bpf.TestRun run = Bpf.testRun(withOwn.programFd(), input);
                assertThat(run.retval()).as(what).isEqualTo(XDP_REDIRECT);
                final byte[] expected = out.build();
                assertThat(FlowFrames.checksumsVerify(run.dataOut())).as(what + ": checksums verify").isTrue();
                if (!tcp && mode == FlowFrames.Checksum.FULL)
                {
                    assertThat(FlowFrames.u16(run.dataOut(), checksumAt)).as(what + ": UDP checksum 0 goes out as 0xFFFF").isNotZero();
                }
                // The incremental update may write 0x0000 where the full computation writes 0xFFFF (RFC 1624 §3):
                // both verify; every other byte must be exactly the frame built from scratch.
                run.dataOut()[checksumAt] = expected[checksumAt];
                run.dataOut()[checksumAt + 1] = expected[checksumAt + 1];
                assertThat(run.dataOut()).as(what).isEqualTo(expected);
                assertThat(w.delete(high(src), low(src), high(dst), low(dst), ports[0], ports[1], tcp ? TCP : UDP)).isTrue();
            }
        }
    }

    private static InetAddress randomAddress(final Random random, final boolean v4) throws Exception
    {
        if (v4)
        {
            return InetAddress.getByAddress(new byte[] {(byte)198, (byte)(18 + random.nextInt(2)), (byte)random.nextInt(256),
                (byte)random.nextInt(256)});
        }
        final byte[] address = new byte[16];
        random.nextBytes(address);
        address[0] = 0x20;
        address[1] = 0x01;
        address[2] = 0;
        address[3] = 0x02;
        address[4] = 0;
        address[5] = 0;
        return InetAddress.getByAddress(address);
    }

    @Test
    void shouldCountPacketsAndIpBytesInTheEntrysDirection()
    {
        final InetAddress client = ip("198.18.0.77");
        assertThat(writer.put(high(client), low(client), high(VIP4), low(VIP4), 41000, 80, TCP, high(LOCAL4), low(LOCAL4),
            high(BACKEND4), low(BACKEND4), 34000, 8080, mac(MAC_BACKEND), mac(MAC_LB_OUT), EGRESS, 0, 3, 4, true)).isTrue();
        assertThat(writer.put(high(BACKEND4), low(BACKEND4), high(LOCAL4), low(LOCAL4), 8080, 34000, TCP, high(VIP4), low(VIP4),
            high(client), low(client), 80, 41000, mac(MAC_CLIENT), mac(MAC_LB_IN), EGRESS, 0, 3, FlowValue.NO_SLOT, false)).isTrue();
        final byte[] toBackend = frame().addresses(client, VIP4).tcp(41000, 80, ACK).payload(new byte[100]).build();
        final byte[] toClient = frame().addresses(BACKEND4, LOCAL4).tcp(8080, 34000, ACK).payload(new byte[10]).build();

        assertThat(Bpf.testRun(steering.programFd(), toBackend).retval()).isEqualTo(XDP_REDIRECT);
        assertThat(Bpf.testRun(steering.programFd(), toBackend).retval()).isEqualTo(XDP_REDIRECT);
        assertThat(Bpf.testRun(steering.programFd(), toClient).retval()).isEqualTo(XDP_REDIRECT);

        final long[] listener = new long[4];
        final long[] backend = new long[4];
        table.counters(3, listener);
        table.counters(4, backend);
        assertThat(listener).as("listener slot: both directions").containsExactly(2, 2 * (20 + 20 + 100), 1, 20 + 20 + 10);
        assertThat(backend).as("backend slot: only the entry that names it").containsExactly(2, 2 * (20 + 20 + 100), 0, 0);
    }

    @Test
    void shouldCountIpv6BytesWithTheFixedHeader()
    {
        final InetAddress client = ip("2001:2::77");
        assertThat(writer.put(high(client), low(client), high(VIP6), low(VIP6), 41000, 53, UDP, high(LOCAL6), low(LOCAL6),
            high(BACKEND6), low(BACKEND6), 34000, 5353, mac(MAC_BACKEND), mac(MAC_LB_OUT), EGRESS, 0, 5, FlowValue.NO_SLOT, true))
            .isTrue();
        assertThat(Bpf.testRun(steering.programFd(), frame().addresses(client, VIP6).udp(41000, 53).payload(new byte[12]).build())
            .retval()).isEqualTo(XDP_REDIRECT);
        final long[] slot = new long[4];
        table.counters(5, slot);
        assertThat(slot).containsExactly(1, 40 + 8 + 12, 0, 0);
    }

    @Test
    void shouldStoreLastSeenWhenForwarding()
    {
        final InetAddress client = ip("198.18.0.78");
        assertThat(writer.lastSeen(high(client), low(client), high(VIP4), low(VIP4), 41000, 80, TCP)).isEqualTo(-1);
        install(writer, client, VIP4, 41000, 80, TCP, LOCAL4, BACKEND4, 34001, 8080, true, 0);
        assertThat(writer.lastSeen(high(client), low(client), high(VIP4), low(VIP4), 41000, 80, TCP)).isZero();

        final long before = System.nanoTime();
        assertThat(Bpf.testRun(steering.programFd(), frame().addresses(client, VIP4).tcp(41000, 80, ACK).build()).retval())
            .isEqualTo(XDP_REDIRECT);
        final long after = System.nanoTime();
        assertThat(writer.lastSeen(high(client), low(client), high(VIP4), low(VIP4), 41000, 80, TCP))
            .as("CLOCK_MONOTONIC, the base of System.nanoTime").isBetween(before, after);
    }

    @Test
    void shouldLeaveStaleEpochEntriesToTheSteering()
    {
        try (XdpFlowTable own = XdpFlowTable.create(8, 1);
            XdpSteering withOwn = XdpSteering.load(4, 16, own))
        {
            withOwn.addVip(VIP4, 80, VipKey.IPPROTO_TCP, XdpSteering.Action.REDIRECT);
            final XdpFlowTable.Writer w = own.writer();
            assertThat(own.epoch()).isZero();
            install(w, CLIENT4, VIP4, 40000, 80, TCP, LOCAL4, BACKEND4, 33000, 8080, true, 0);
            final byte[] in = frame().addresses(CLIENT4, VIP4).tcp(40000, 80, ACK).build();
            assertThat(Bpf.testRun(withOwn.programFd(), in).retval()).isEqualTo(XDP_REDIRECT);

            assertThat(own.bumpEpoch()).isEqualTo(1);
            assertThat(own.epoch()).isEqualTo(1);
            final Bpf.TestRun stale = Bpf.testRun(withOwn.programFd(), in);
            assertThat(stale.retval()).isEqualTo(SteeringProgram.XDP_PASS);
            assertThat(stale.dataOut()).isEqualTo(in);
            assertThat(withOwn.count(SteeringCounter.OFFLOAD_STALE)).isEqualTo(1);
            assertThat(withOwn.count(SteeringCounter.REDIRECT_VIP)).as("then steered as today").isEqualTo(1);
            assertThat(withOwn.count(SteeringCounter.OFFLOAD_FORWARDED)).isEqualTo(1);

            install(w, CLIENT4, VIP4, 40000, 80, TCP, LOCAL4, BACKEND4, 33000, 8080, true, 1);
            assertThat(Bpf.testRun(withOwn.programFd(), in).retval()).as("re-installed with the new epoch").isEqualTo(XDP_REDIRECT);
            assertThat(withOwn.count(SteeringCounter.OFFLOAD_FORWARDED)).isEqualTo(2);
        }
    }

    @Test
    void shouldTransmitBackOutOfTheIngressInterfaceWithXdpTx()
    {
        final InetAddress client = ip("198.18.0.79");
        assertThat(writer.put(high(client), low(client), high(VIP4), low(VIP4), 41000, 80, TCP, high(LOCAL4), low(LOCAL4),
            high(BACKEND4), low(BACKEND4), 34002, 8080, mac(MAC_BACKEND), mac(MAC_LB_OUT), 1, 0, FlowValue.NO_SLOT,
            FlowValue.NO_SLOT, true)).isTrue();
        final byte[] in = frame().addresses(client, VIP4).tcp(41000, 80, ACK).build();
        final byte[] out = frame().macs(MAC_LB_OUT, MAC_BACKEND).addresses(LOCAL4, BACKEND4).tcp(34002, 8080, ACK).build();

        final Bpf.TestRun loopback = Bpf.testRun(steering.programFd(), in, 1);
        assertThat(loopback.retval()).as("egress 1 = ingress lo").isEqualTo(XDP_TX);
        assertThat(loopback.dataOut()).isEqualTo(out);

        try (TestNetwork network = new TestNetwork("xf"))
        {
            final String ns = network.namespace("t");
            network.veth(ns, network.name("t0"), ns, network.name("t1"));
            final Bpf.TestRun veth = NetNs.call(ns, () -> Bpf.testRun(steering.programFd(), in, Libc.ifNameToIndex(network.name("t0"))));
            assertThat(veth.retval()).as("arriving on another interface: redirected to 1").isEqualTo(XDP_REDIRECT);
            assertThat(veth.dataOut()).isEqualTo(out);
        }
    }

    @Test
    void shouldInstallStagedEntriesTogetherUpToAFullMapAndDeleteStagedOnesSkippingAbsentKeys()
    {
        try (XdpFlowTable small = XdpFlowTable.create(3, 1))
        {
            final XdpFlowTable.Writer w = small.writer();
            for (int port = 1; port <= 4; port++)
            {
                w.stage(high(CLIENT4), low(CLIENT4), high(VIP4), low(VIP4), port, 80, TCP, high(LOCAL4), low(LOCAL4),
                    high(BACKEND4), low(BACKEND4), 1000 + port, 8080, mac(MAC_BACKEND), mac(MAC_LB_OUT), EGRESS, 0, 0, 1, true);
            }
            // one call; the fourth does not fit
            assertThat(w.commit()).isEqualTo(3);
            assertThat(small.entryCount()).isEqualTo(3);
            assertThat(w.lastSeen(high(CLIENT4), low(CLIENT4), high(VIP4), low(VIP4), 3, 80, TCP)).isZero();
            assertThat(w.lastSeen(high(CLIENT4), low(CLIENT4), high(VIP4), low(VIP4), 4, 80, TCP)).isEqualTo(-1);
            assertThat(w.commit()).as("nothing staged").isZero();
            // ports 1, 4 (absent), 3: the absent key is skipped, the rest still go
            for (final int port : new int[] {1, 4, 3})
            {
                w.stageDelete(high(CLIENT4), low(CLIENT4), high(VIP4), low(VIP4), port, 80, TCP);
            }
            assertThat(w.hasStagedDeletes()).isTrue();
            assertThat(w.commitDeletes()).isEqualTo(2);
            assertThat(w.hasStagedDeletes()).isFalse();
            assertThat(small.entryCount()).isEqualTo(1);
            assertThat(w.lastSeen(high(CLIENT4), low(CLIENT4), high(VIP4), low(VIP4), 2, 80, TCP)).isZero();
        }
    }

    @Test
    void shouldReturnFalseWhenTheMapIsFull()
    {
        try (XdpFlowTable small = XdpFlowTable.create(2, 1))
        {
            final XdpFlowTable.Writer w = small.writer();
            assertThat(small.maxFlows()).isEqualTo(2);
            assertThat(install(w, CLIENT4, VIP4, 1, 80, TCP, LOCAL4, BACKEND4, 2, 8080, true, 0)).isTrue();
            assertThat(install(w, CLIENT4, VIP4, 3, 80, TCP, LOCAL4, BACKEND4, 4, 8080, true, 0)).isTrue();
            assertThat(install(w, CLIENT4, VIP4, 5, 80, TCP, LOCAL4, BACKEND4, 6, 8080, true, 0)).as("full").isFalse();
            assertThat(install(w, CLIENT4, VIP4, 1, 80, TCP, LOCAL4, BACKEND4, 7, 8080, true, 0)).as("replacing").isTrue();
            assertThat(small.entryCount()).isEqualTo(2);
        }
    }

    @Test
    void shouldReportAbsentEntriesOnDeleteAndLastSeen()
    {
        try (XdpFlowTable own = XdpFlowTable.create(4, 1))
        {
            final XdpFlowTable.Writer w = own.writer();
            assertThat(w.delete(high(CLIENT6), low(CLIENT6), high(VIP6), low(VIP6), 1, 80, TCP)).isFalse();
            assertThat(w.lastSeen(high(CLIENT6), low(CLIENT6), high(VIP6), low(VIP6), 1, 80, TCP)).isEqualTo(-1);
            install(w, CLIENT6, VIP6, 1, 80, TCP, LOCAL6, BACKEND6, 2, 8080, true, 0);
            assertThat(own.entryCount()).isEqualTo(1);
            assertThat(w.lastSeen(high(CLIENT6), low(CLIENT6), high(VIP6), low(VIP6), 1, 80, TCP)).isZero();
            assertThat(w.lastSeen(high(CLIENT6), low(CLIENT6), high(VIP6), low(VIP6), 1, 80, UDP)).as("other protocol").isEqualTo(-1);
            assertThat(w.delete(high(CLIENT6), low(CLIENT6), high(VIP6), low(VIP6), 1, 80, TCP)).isTrue();
            assertThat(w.delete(high(CLIENT6), low(CLIENT6), high(VIP6), low(VIP6), 1, 80, TCP)).isFalse();
            assertThat(own.entryCount()).isZero();
        }
    }

    @Test
    void shouldNotAllocateInTheWriterOrCounterReads()
    {
        final com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean)java.lang.management.ManagementFactory
            .getThreadMXBean();
        try (XdpFlowTable own = XdpFlowTable.create(16, 2))
        {
            final XdpFlowTable.Writer w = own.writer();
            final long[] out = new long[4];
            final long c = low(CLIENT4);
            final long v = low(VIP4);
            final long l = low(LOCAL4);
            final long b = low(BACKEND4);
            long sink = 0;
            long allocated = 0;
            for (int round = 0; round < 2; round++)
            {
                // Round 0 warms up (class loading, JIT); round 1 is measured.
                final long before = threads.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 20_000; i++)
                {
                    final int port = 1024 + (i & 7);
                    sink += w.put(0, c, 0, v, port, 80, TCP, 0, l, 0, b, port, 8080, 0x0200_0000_0b01L, 0x0200_0000_0c01L, EGRESS, 0, 0, 1,
                        true) ? 1 : 0;
                    sink += w.lastSeen(0, c, 0, v, port, 80, TCP);
                    sink += w.delete(0, c, 0, v, port, 80, TCP) ? 1 : 0;
                    own.counters(1, out);
                    sink += out[0];
                    w.stage(0, c, 0, v, port, 80, TCP, 0, l, 0, b, port, 8080, 0x0200_0000_0b01L, 0x0200_0000_0c01L, EGRESS, 0, 0, 1,
                        true);
                    w.stage(0, b, 0, l, 8080, port, TCP, 0, v, 0, c, 80, port, 0x0200_0000_0b02L, 0x0200_0000_0c02L, EGRESS, 0, 0, 1,
                        false);
                    sink += w.commit();
                    w.stageDelete(0, c, 0, v, port, 80, TCP);
                    w.stageDelete(0, b, 0, l, 8080, port, TCP);
                    sink += w.commitDeletes();
                }
                allocated = threads.getCurrentThreadAllocatedBytes() - before;
            }
            assertThat(sink).as("every put, delete and batch succeeded, lastSeen 0").isEqualTo(240_000);
            assertThat(allocated).as("bytes allocated by 20 000 × (put, lastSeen, delete, counters, two staged in and out)")
                .isLessThan(1024);
        }
    }

    @Test
    void shouldBuildTodaysProgramWithoutAFlowTable()
    {
        final long[] plain = SteeringProgram.build(3, 4, 5);
        assertThat(SteeringProgram.build(3, 4, 5, null)).isEqualTo(plain);
        assertThat(SteeringProgram.build(3, 4, 5, table).length).isGreaterThan(plain.length);
        assertThat(Arrays.copyOf(plain, 1)).isEqualTo(Arrays.copyOf(SteeringProgram.build(3, 4, 5, table), 1));
    }
}
