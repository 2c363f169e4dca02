package io.sluice.fastpath;

import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.sluice.fastpath.config.Backend;
import io.sluice.fastpath.config.Listener;
import io.sluice.fastpath.config.ListenerKey;
import io.sluice.fastpath.config.Protocol;
import io.sluice.fastpath.packet.IpAddresses;
import io.sluice.fastpath.packet.PacketBuilder;
import io.sluice.fastpath.session.FlowHash;
import io.sluice.fastpath.session.SessionLayout;
import io.sluice.fastpath.session.SessionTable;
import io.sluice.nativeio.bpf.Bpf;
import io.sluice.nativeio.xdp.XdpFlowTable;
import io.sluice.nativeio.xdp.XdpSteering;

import static io.sluice.fastpath.packet.TcpFlyweight.ACK;
import static io.sluice.fastpath.packet.TcpFlyweight.FIN;
import static io.sluice.fastpath.packet.TcpFlyweight.RST;
import static io.sluice.fastpath.packet.TcpFlyweight.SYN;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The forwarder's half of the XDP flow offload, against the real BPF flow table and the real steering program (run
 * with BPF_PROG_TEST_RUN, so no interface is needed): what it installs for a new session, that the program then turns
 * the session's ordinary frames into exactly the frames the forwarder itself would have sent, and how the session's
 * timers, state, counters and end follow frames the forwarder never saw.
 */
class FlowOffloadTest
{
    private static final ListenerKey TCP = ListenerKey.of("198.18.1.100", Protocol.TCP, 80);
    private static final ListenerKey UDP = ListenerKey.of("198.18.1.100", Protocol.UDP, 53);
    private static final ListenerKey TCP6 = ListenerKey.of("2001:2:0:1::100", Protocol.TCP, 80);
    private static final ListenerKey TOA = ListenerKey.of("198.18.1.100", Protocol.TCP, 81);
    private static final ListenerKey PEAK = ListenerKey.of("198.18.1.100", Protocol.TCP, 82);
    private static final int EGRESS_IFINDEX = 7;
    private static final int XDP_PASS = 2;
    private static final int XDP_REDIRECT = 4;

    private XdpFlowTable table;
    private XdpSteering program;

    @BeforeEach
    void loadTable()
    {
        table = XdpFlowTable.create(1024, FlowOffload.COUNTER_SLOTS);
        program = XdpSteering.load(1, 16, table);
    }

    @AfterEach
    void closeTable()
    {
        program.close();
        table.close();
    }

    private static Harness harness(final boolean offloaded, final XdpFlowTable table)
    {
        final Harness h = new Harness(1, 1024);
        // The program stamps entries with CLOCK_MONOTONIC: the forwarder's clock starts 100 s behind it, so a
        // stamp is always newer than anything the forwarder wrote, and the test moves time on from there.
        h.clock.now = System.nanoTime() - 100_000_000_000L;
        h.conductor.addListener(Listener.of("web", TCP, List.of(Backend.of("198.18.10.2", 8080, 100)))
            .withIdleTimeoutSeconds(120));
        h.conductor.addListener(Listener.of("dns", UDP, List.of(Backend.of("198.18.10.2", 5353, 100))));
        h.conductor.addListener(Listener.of("web6", TCP6, List.of(Backend.of("2001:2:0:10::2", 8080, 100))));
        h.conductor.addListener(Listener.of("toa", TOA, List.of(Backend.of("198.18.10.2", 8081, 100))).withToa(true));
        h.conductor.addListener(Listener.of("peak", PEAK, List.of(Backend.of("198.18.10.2", 8082, 100))).withBandwidthMbps(100));
        if (offloaded)
        {
            final FlowOffload offload = new FlowOffload(table, new int[] {EGRESS_IFINDEX});
            h.neighbours.onChange(offload::neighboursChanged);
            h.conductor.offload(offload);
        }
        h.runUntilIdle();
        return h;
    }

    private static byte[] client(final int port, final int flags)
    {
        return PacketBuilder.tcp().from("198.18.0.1", 40000).to("198.18.1.100", port).flags(flags).payload(
            (flags & SYN) != 0 ? "" : "GET / HTTP/1.1\r\n\r\n").build();
    }

    private static int snat(final int vipPort, final int protocol)
    {
        return ForwarderAgent.preferredSnatPort(FlowHash.hash(0, IpAddresses.low(IpAddresses.parse("198.18.0.1")), 0,
            IpAddresses.low(IpAddresses.parse("198.18.1.100")), 40000, vipPort, protocol), 0, 1, 1024, 32767);
    }

    private static byte[] backend(final int flags)
    {
        return PacketBuilder.tcp().from("198.18.10.2", 8080).to("198.18.2.10", snat(80, 6)).flags(flags).build();
    }

    private Bpf.TestRun xdp(final byte[] frame)
    {
        return Bpf.testRun(program.programFd(), frame);
    }

    private static int flags(final Harness h)
    {
        final SessionTable sessions = h.forwarders[0].sessions();
        for (int record = 0; record < sessions.capacity(); record++)
        {
            final int base = SessionTable.offset(record);
            final byte state = sessions.records().getByte(base + SessionLayout.STATE_OFFSET);
            if (state != SessionLayout.STATE_FREE && state != SessionLayout.STATE_CLOSED)
            {
                return sessions.records().getShort(base + SessionLayout.FLAGS_OFFSET) & 0xFFFF;
            }
        }
        return -1;
    }

    @Test
    void shouldInstallANewSessionsTwoDirectionsAndHaveTheProgramSendWhatTheForwarderWould()
    {
        try (Harness offloaded = harness(true, table); Harness reference = harness(false, null))
        {
            assertThat(offloaded.send(0, client(80, SYN))).hasSize(1);
            assertThat(reference.send(0, client(80, SYN))).hasSize(1);
            assertThat(table.entryCount()).isEqualTo(2);
            assertThat(flags(offloaded)).isEqualTo(SessionLayout.FLAG_OFFLOAD_CLIENT | SessionLayout.FLAG_OFFLOAD_REPLY);
            assertThat(offloaded.counter(FastpathCounter.OFFLOADED_SESSIONS)).isEqualTo(1);

            // The backend's SYN-ACK and the client's ACK with a request: the program's output is the forwarder's.
            for (final byte[] frame : new byte[][] {backend(SYN | ACK), client(80, ACK)})
            {
                final Bpf.TestRun run = xdp(frame);
                assertThat(run.retval()).isEqualTo(XDP_REDIRECT);
                final List<byte[]> expected = reference.send(0, frame);
                assertThat(expected).hasSize(1);
                assertThat(run.dataOut()).isEqualTo(expected.get(0));
            }
            // SYN, FIN and RST are state changes: the program leaves them to the forwarder.
            for (final int flags : new int[] {SYN, FIN | ACK, RST})
            {
                final byte[] frame = client(80, flags);
                final Bpf.TestRun run = xdp(frame);
                assertThat(run.retval()).isEqualTo(XDP_PASS);
                assertThat(run.dataOut()).isEqualTo(frame);
            }
        }
    }

    @Test
    void shouldHaveTheProgramSendWhatTheForwarderWouldForAnIpv6Session()
    {
        try (Harness offloaded = harness(true, table); Harness reference = harness(false, null))
        {
            final PacketBuilder client = PacketBuilder.tcp().from("2001:2::1", 40000).to("2001:2:0:1::100", 80);
            final int snat = ForwarderAgent.preferredSnatPort(FlowHash.hash(IpAddresses.high(IpAddresses.parse("2001:2::1")),
                IpAddresses.low(IpAddresses.parse("2001:2::1")), IpAddresses.high(IpAddresses.parse("2001:2:0:1::100")),
                IpAddresses.low(IpAddresses.parse("2001:2:0:1::100")), 40000, 80, 6), 0, 1, 1024, 32767);
            final PacketBuilder backend = PacketBuilder.tcp().from("2001:2:0:10::2", 8080).to("2001:2:0:2::10", snat);
            assertThat(offloaded.send(0, client.copy().flags(SYN).build())).hasSize(1);
            assertThat(reference.send(0, client.copy().flags(SYN).build())).hasSize(1);
            assertThat(table.entryCount()).isEqualTo(2);
            for (final byte[] frame : new byte[][] {backend.copy().flags(SYN | ACK).build(),
                client.copy().flags(ACK).payload("GET / HTTP/1.1\r\n\r\n").build(),
                backend.copy().flags(ACK).payload("HTTP/1.1 200").build()})
            {
                final Bpf.TestRun run = xdp(frame);
                assertThat(run.retval()).isEqualTo(XDP_REDIRECT);
                final List<byte[]> expected = reference.send(0, frame);
                assertThat(expected).hasSize(1);
                assertThat(run.dataOut()).isEqualTo(expected.get(0));
            }
        }
    }

    @Test
    void shouldNotReclaimAnOffloadedSessionWhoseHandshakeOnlyTheProgramSaw()
    {
        try (Harness h = new Harness(1, 3))
        {
            h.clock.now = System.nanoTime() - 100_000_000_000L;
            h.conductor.addListener(Listener.of("web", TCP, List.of(Backend.of("198.18.10.2", 8080, 100))));
            h.conductor.offload(new FlowOffload(table, new int[] {EGRESS_IFINDEX}));
            h.runUntilIdle();
            final int capacity = h.forwarders[0].sessions().capacity();
            // Fill the table with embryonic sessions, the first of which the program then sees established.
            for (int i = 0; i < capacity; i++)
            {
                assertThat(h.send(0, PacketBuilder.tcp().from("198.18.0.1", 40000 + i).to("198.18.1.100", 80).flags(SYN).build()))
                    .hasSize(1);
            }
            assertThat(xdp(client(80, ACK)).retval()).isEqualTo(XDP_REDIRECT);
            // A SYN into the full table reclaims an embryonic session, never the established one.
            assertThat(h.send(0, PacketBuilder.tcp().from("198.18.0.2", 40000).to("198.18.1.100", 80).flags(SYN).build()))
                .hasSize(1);
            assertThat(h.counter(FastpathCounter.RECLAIMED_SESSIONS)).isEqualTo(1);
            assertThat(xdp(client(80, ACK)).retval()).isEqualTo(XDP_REDIRECT);
            assertThat(h.forwarders[0].sessions().lookup(FlowHash.hash(0, IpAddresses.low(IpAddresses.parse("198.18.0.1")), 0,
                IpAddresses.low(IpAddresses.parse("198.18.1.100")), 40000, 80, 6), 0,
                IpAddresses.low(IpAddresses.parse("198.18.0.1")), 0, IpAddresses.low(IpAddresses.parse("198.18.1.100")), 40000, 80, 6))
                .isNotEqualTo(SessionTable.NOT_FOUND);
        }
    }

    @Test
    void shouldUseNewestProgramStampForTimersAndEstablishAHandshakeThatOnlyTheProgramSaw()
    {
        try (Harness h = harness(true, table))
        {
            h.send(0, client(80, SYN));
            assertThat(xdp(backend(SYN | ACK)).retval()).isEqualTo(XDP_REDIRECT);
            assertThat(xdp(client(80, ACK)).retval()).isEqualTo(XDP_REDIRECT);
            // Past the 30 s embryonic timeout: the client's ACK went through the program, so the session is established.
            h.clock.advanceSeconds(31);
            h.runUntilIdle();
            assertThat(h.forwarders[0].sessions().liveCount()).isEqualTo(1);
            assertThat(h.counter(FastpathCounter.OFFLOAD_EXPIRY_CHECKS)).isPositive();
            // The program's stamp (real time, ~100 s ahead of the forwarder's clock) is the session's last frame:
            // it lives until 120 s after that.
            h.clock.advanceSeconds(100 - 31 + 110);
            h.runUntilIdle();
            assertThat(h.forwarders[0].sessions().liveCount()).isEqualTo(1);
            h.clock.advanceSeconds(20);
            h.runUntilIdle();
            assertThat(h.forwarders[0].sessions().liveCount()).isZero();
            assertThat(table.entryCount()).isZero();
            assertThat(h.counter(FastpathCounter.ACTIVE_SESSIONS)).isZero();
        }
    }

    @Test
    void shouldExpireAnOffloadedHandshakeTheClientNeverCompleted()
    {
        try (Harness h = harness(true, table))
        {
            h.send(0, client(80, SYN));
            // Only the backend answers (a spoofed SYN): the client never speaks again.
            assertThat(xdp(backend(SYN | ACK)).retval()).isEqualTo(XDP_REDIRECT);
            h.clock.advanceSeconds(31);
            h.runUntilIdle();
            // Its stamp is newer than the forwarder's clock: the embryonic timeout runs from it.
            h.clock.advanceSeconds(100);
            h.runUntilIdle();
            assertThat(h.forwarders[0].sessions().liveCount()).isZero();
            assertThat(table.entryCount()).isZero();
        }
    }

    @Test
    void shouldHaveTheFlowsOwnerInstallAndRemoveTheEntriesWithTwoForwarders()
    {
        try (Harness h = new Harness(2, 1024))
        {
            h.conductor.addListener(Listener.of("web", TCP, List.of(Backend.of("198.18.10.2", 8080, 100))));
            h.conductor.offload(new FlowOffload(table, new int[] {EGRESS_IFINDEX}));
            h.runUntilIdle();
            // Two flows, each in by one queue and its RST by the other, so each is handed to its owner once: the owner
            // makes the session, installs its entries and, at the RST, takes them out.
            for (int queue = 0; queue < 2; queue++)
            {
                final byte[] syn = PacketBuilder.tcp().from("198.18.0.1", 41000 + queue).to("198.18.1.100", 80).flags(SYN).build();
                assertThat(h.send(queue, syn)).hasSize(1);
            }
            assertThat(table.entryCount()).isEqualTo(4);
            assertThat(h.counter(FastpathCounter.OFFLOADED_SESSIONS)).isEqualTo(2);
            for (int queue = 0; queue < 2; queue++)
            {
                final byte[] rst = PacketBuilder.tcp().from("198.18.0.1", 41000 + queue).to("198.18.1.100", 80).flags(RST).build();
                assertThat(h.send(1 - queue, rst)).hasSize(1);
            }
            assertThat(table.entryCount()).isZero();
        }
    }

    @Test
    void shouldTakeASessionOutOfTheOffloadWhenItsListenerGetsABandwidthPeak()
    {
        try (Harness h = harness(true, table))
        {
            h.send(0, client(80, SYN));
            assertThat(table.entryCount()).isEqualTo(2);
            assertThat(xdp(client(80, ACK)).retval()).isEqualTo(XDP_REDIRECT);
            // a peak set on the listener now applies to its established sessions too: their frames come back here
            h.conductor.updateListener(Listener.of("web", TCP, List.of(Backend.of("198.18.10.2", 8080, 100)))
                .withIdleTimeoutSeconds(120).withBandwidthMbps(100));
            h.runUntilIdle();
            assertThat(table.entryCount()).isZero();
            assertThat(flags(h) & SessionLayout.OFFLOAD_FLAGS).isZero();
            assertThat(xdp(client(80, ACK)).retval()).isEqualTo(XDP_PASS);
            assertThat(h.send(0, client(80, ACK))).hasSize(1);
        }
    }

    @Test
    void shouldTakeTheEntriesOutWhenAResetEndsTheSession()
    {
        try (Harness h = harness(true, table))
        {
            h.send(0, client(80, SYN));
            assertThat(table.entryCount()).isEqualTo(2);
            assertThat(h.send(0, client(80, RST))).hasSize(1);
            assertThat(table.entryCount()).isZero();
            assertThat(xdp(client(80, ACK)).retval()).isEqualTo(XDP_PASS);
        }
    }

    @Test
    void shouldLeaveToaAndBandwidthLimitedListenersToTheForwarder()
    {
        try (Harness h = harness(true, table))
        {
            assertThat(h.send(0, client(81, SYN))).hasSize(1);
            assertThat(h.send(0, client(82, SYN))).hasSize(1);
            assertThat(table.entryCount()).isZero();
            assertThat(h.counter(FastpathCounter.OFFLOADED_SESSIONS)).isZero();
        }
    }

    @Test
    void shouldFoldWhatTheProgramForwardedIntoTheCountersOnceASecond()
    {
        try (Harness h = harness(true, table))
        {
            final byte[] query = PacketBuilder.udp().from("198.18.0.1", 40000).to("198.18.1.100", 53).payload("query").build();
            final byte[] answer = PacketBuilder.udp().from("198.18.10.2", 5353).to("198.18.2.10", snat(53, 17))
                .payload("answer!").build();
            assertThat(h.send(0, query)).hasSize(1);
            assertThat(table.entryCount()).isEqualTo(2);
            final long outBefore = h.counter(FastpathCounter.PACKETS_OUT);
            for (int i = 0; i < 3; i++)
            {
                assertThat(xdp(answer).retval()).isEqualTo(XDP_REDIRECT);
            }
            assertThat(xdp(query).retval()).isEqualTo(XDP_REDIRECT);
            h.clock.advanceSeconds(1.5);
            h.runUntilIdle();
            assertThat(h.counter(FastpathCounter.PACKETS_OUT) - outBefore).isEqualTo(3);
            assertThat(h.counter("fastpath.backend.packets_out.dns.198.18.10.2:5353")).isEqualTo(3);
            // the answer's IP length: 20 + 8 + 7
            assertThat(h.counter("fastpath.listener.bytes_out.dns")).isEqualTo(3 * 35);
            assertThat(h.counter("fastpath.listener.packets_in.dns")).isEqualTo(2);
            assertThat(h.counter(FastpathCounter.OFFLOAD_PACKETS)).isEqualTo(4);
        }
    }

    @Test
    void shouldInstallAStaleEntryAgainWhenANextHopsMacChanges()
    {
        try (Harness h = harness(true, table))
        {
            h.send(0, client(80, SYN));
            final long newMac = 0x02_00_00_00_0B_02L;
            h.neighbours.put(IpAddresses.parse("198.18.10.2"), newMac);
            // The epoch moved: the program hands the old entry's frame up untouched...
            final byte[] ack = client(80, ACK);
            final Bpf.TestRun stale = xdp(ack);
            assertThat(stale.retval()).isEqualTo(XDP_PASS);
            assertThat(stale.dataOut()).isEqualTo(ack);
            // ...the forwarder sends it to the new MAC and installs the entry again...
            final List<byte[]> sent = h.send(0, ack);
            assertThat(sent).hasSize(1);
            assertThat(h.counter(FastpathCounter.OFFLOAD_REFRESHED)).isEqualTo(1);
            // ...after which the program sends the same.
            final Bpf.TestRun fresh = xdp(ack);
            assertThat(fresh.retval()).isEqualTo(XDP_REDIRECT);
            assertThat(fresh.dataOut()).isEqualTo(sent.get(0));
            assertThat(java.util.Arrays.copyOf(fresh.dataOut(), 6)).isEqualTo(new byte[] {2, 0, 0, 0, 0x0B, 2});
        }
    }
}
