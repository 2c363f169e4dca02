package io.sluice.fastpath;

import java.util.List;

import org.junit.jupiter.api.Test;

import io.sluice.fastpath.config.Backend;
import io.sluice.fastpath.config.Listener;
import io.sluice.fastpath.config.ListenerKey;
import io.sluice.fastpath.config.Protocol;
import io.sluice.fastpath.packet.PacketBuilder;

import static io.sluice.fastpath.packet.TcpFlyweight.ACK;
import static io.sluice.fastpath.packet.TcpFlyweight.FIN;
import static io.sluice.fastpath.packet.TcpFlyweight.SYN;
import static org.assertj.core.api.Assertions.assertThat;

/** Timeouts by TCP state and for UDP, driven by an injected clock; counters that follow sessions. */
class SessionLifecycleTest
{
    private static final ListenerKey TCP = ListenerKey.of("198.18.1.100", Protocol.TCP, 80);
    private static final ListenerKey UDP = ListenerKey.of("198.18.1.100", Protocol.UDP, 53);
    private static final String LISTENER_LABEL = "web";
    private static final String BACKEND_LABEL = LISTENER_LABEL + ".198.18.10.2:8080";

    private static Harness harness(final int idleTimeoutSeconds)
    {
        final Harness h = new Harness(1, 1024);
        h.conductor.addListener(Listener.of("web", TCP, List.of(Backend.of("198.18.10.2", 8080, 100)))
            .withIdleTimeoutSeconds(idleTimeoutSeconds));
        h.conductor.addListener(Listener.of("dns", UDP, List.of(Backend.of("198.18.10.2", 5353, 100))));
        return h;
    }

    private static byte[] client(final int flags)
    {
        return PacketBuilder.tcp().from("198.18.0.1", 40000).to("198.18.1.100", 80).flags(flags).build();
    }

    private static byte[] backend(final int flags)
    {
        final java.net.InetAddress c = io.sluice.fastpath.packet.IpAddresses.parse("198.18.0.1");
        final java.net.InetAddress v = io.sluice.fastpath.packet.IpAddresses.parse("198.18.1.100");
        final int snat = ForwarderAgent.preferredSnatPort(io.sluice.fastpath.session.FlowHash.hash(0,
            io.sluice.fastpath.packet.IpAddresses.low(c), 0, io.sluice.fastpath.packet.IpAddresses.low(v), 40000, 80, 6), 0, 1,
            1024, 32767);
        return PacketBuilder.tcp().from("198.18.10.2", 8080).to("198.18.2.10", snat).flags(flags).build();
    }

    private static void establish(final Harness h)
    {
        assertThat(h.send(0, client(SYN))).hasSize(1);
        assertThat(h.send(0, backend(SYN | ACK))).hasSize(1);
        assertThat(h.send(0, client(ACK))).hasSize(1);
    }

    @Test
    void shouldExpireAnEmbryonicSessionAfterThirtySeconds()
    {
        try (Harness h = harness(900))
        {
            h.send(0, client(SYN));
            h.clock.advanceSeconds(29);
            h.runUntilIdle();
            assertThat(h.forwarders[0].sessions().liveCount()).isEqualTo(1);
            h.clock.advanceSeconds(2);
            h.runUntilIdle();
            assertThat(h.forwarders[0].sessions().liveCount()).isZero();
            assertThat(h.send(0, backend(SYN | ACK))).isEmpty();
            assertThat(h.forwarders[0].lastVerdict()).isEqualTo(Verdict.DROP_UNSOLICITED);
            assertThat(h.counter(FastpathCounter.EXPIRED_SESSIONS)).isEqualTo(1);
            assertThat(h.counter(FastpathCounter.ACTIVE_SESSIONS)).isZero();
        }
    }

    @Test
    void shouldKeepAnEstablishedSessionForTheListenersIdleTimeoutSinceTheLastPacket()
    {
        try (Harness h = harness(120))
        {
            establish(h);
            h.clock.advanceSeconds(100);
            h.runUntilIdle();
            assertThat(h.send(0, client(ACK))).hasSize(1);
            h.clock.advanceSeconds(110);
            h.runUntilIdle();
            assertThat(h.forwarders[0].sessions().liveCount()).isEqualTo(1);
            h.clock.advanceSeconds(11);
            h.runUntilIdle();
            assertThat(h.forwarders[0].sessions().liveCount()).isZero();
            assertThat(h.counter("fastpath.listener.sessions.active." + LISTENER_LABEL)).isZero();
            assertThat(h.counter("fastpath.backend.sessions.active." + BACKEND_LABEL)).isZero();
        }
    }

    @Test
    void shouldStartANewSessionWhenAClientReusesAClosingSessionsPort()
    {
        try (Harness h = harness(900))
        {
            establish(h);
            h.send(0, client(FIN | ACK));
            h.send(0, backend(FIN | ACK));
            h.send(0, client(ACK));
            h.clock.advanceSeconds(5);
            h.runUntilIdle();
            // the same client port again, 5 s into the 10 s closing timeout: a new connection, not the old one's tail
            assertThat(h.send(0, client(SYN))).hasSize(1);
            assertThat(h.counter(FastpathCounter.NEW_SESSIONS)).isEqualTo(2);
            assertThat(h.counter(FastpathCounter.ACTIVE_SESSIONS)).isEqualTo(1);
            assertThat(h.counter("fastpath.listener.sessions.active." + LISTENER_LABEL)).isEqualTo(1);
            assertThat(h.send(0, backend(SYN | ACK))).hasSize(1);
            assertThat(h.send(0, client(ACK))).hasSize(1);
            // past the old session's closing timeout the new connection lives on
            h.clock.advanceSeconds(60);
            h.runUntilIdle();
            assertThat(h.send(0, client(ACK))).hasSize(1);
            assertThat(h.send(0, backend(ACK))).hasSize(1);
            assertThat(h.forwarders[0].sessions().liveCount()).isEqualTo(1);
            assertThat(h.counter(FastpathCounter.ACTIVE_SESSIONS)).isEqualTo(1);
        }
    }

    @Test
    void shouldCloseQuicklyAfterFin()
    {
        try (Harness h = harness(900))
        {
            establish(h);
            // Established for a while: the record now sits in a wheel slot ~900 s away.
            h.clock.advanceSeconds(31);
            h.runUntilIdle();
            assertThat(h.send(0, client(ACK))).hasSize(1);
            h.send(0, client(FIN | ACK));
            h.send(0, backend(FIN | ACK));
            h.clock.advanceSeconds(9);
            h.runUntilIdle();
            assertThat(h.forwarders[0].sessions().liveCount()).isEqualTo(1);
            h.clock.advanceSeconds(2);
            h.runUntilIdle();
            assertThat(h.forwarders[0].sessions().liveCount()).isZero();
            assertThat(h.counter(FastpathCounter.ACTIVE_SESSIONS)).isZero();
            assertThat(h.send(0, backend(ACK))).isEmpty();
            // The record itself is reclaimed when its wheel slot comes round.
            assertThat(h.forwarders[0].sessions().recordsInUse()).isEqualTo(1);
            h.clock.advanceSeconds(900);
            h.runUntilIdle();
            assertThat(h.forwarders[0].sessions().recordsInUse()).isZero();
            assertThat(h.counter(FastpathCounter.EXPIRED_SESSIONS)).isEqualTo(1);
        }
    }

    @Test
    void shouldExpireUdpAfterThreeHundredIdleSeconds()
    {
        try (Harness h = harness(900))
        {
            final byte[] query = PacketBuilder.udp().from("198.18.0.1", 5000).to("198.18.1.100", 53).payload("q").build();
            h.send(0, query);
            h.clock.advanceSeconds(299);
            h.runUntilIdle();
            assertThat(h.forwarders[0].sessions().liveCount()).isEqualTo(1);
            h.clock.advanceSeconds(2);
            h.runUntilIdle();
            assertThat(h.forwarders[0].sessions().liveCount()).isZero();
        }
    }

    @Test
    void shouldReclaimRecordsOfResetSessions()
    {
        try (Harness h = harness(900))
        {
            establish(h);
            h.send(0, client(io.sluice.fastpath.packet.TcpFlyweight.RST));
            assertThat(h.forwarders[0].sessions().liveCount()).isZero();
            assertThat(h.forwarders[0].sessions().recordsInUse()).isEqualTo(1);
            assertThat(h.counter(FastpathCounter.ACTIVE_SESSIONS)).isZero();
            h.clock.advanceSeconds(31);
            h.runUntilIdle();
            assertThat(h.forwarders[0].sessions().recordsInUse()).isZero();
        }
    }

    @Test
    void shouldCountPacketsBytesAndSessionsGloballyPerListenerAndPerBackend()
    {
        try (Harness h = harness(900))
        {
            establish(h);
            assertThat(h.counter(FastpathCounter.PACKETS_IN)).isEqualTo(2);
            assertThat(h.counter(FastpathCounter.PACKETS_OUT)).isEqualTo(1);
            assertThat(h.counter(FastpathCounter.BYTES_IN)).isEqualTo(80);
            assertThat(h.counter(FastpathCounter.NEW_SESSIONS)).isEqualTo(1);
            assertThat(h.counter(FastpathCounter.ACTIVE_SESSIONS)).isEqualTo(1);
            assertThat(h.counter("fastpath.listener.packets_in." + LISTENER_LABEL)).isEqualTo(2);
            assertThat(h.counter("fastpath.listener.bytes_out." + LISTENER_LABEL)).isEqualTo(40);
            assertThat(h.counter("fastpath.listener.sessions.new." + LISTENER_LABEL)).isEqualTo(1);
            assertThat(h.counter("fastpath.backend.packets_out." + BACKEND_LABEL)).isEqualTo(1);
            assertThat(h.counter("fastpath.backend.sessions.active." + BACKEND_LABEL)).isEqualTo(1);
            h.send(0, PacketBuilder.tcp().from("198.18.0.1", 40001).to("198.18.1.100", 81).flags(SYN).build());
            assertThat(h.counter(FastpathCounter.DROP_NO_LISTENER)).isEqualTo(1);
        }
    }

    @Test
    void shouldReclaimAnEmbryonicSessionWhenTheSessionTableIsFull()
    {
        // A full table of embryonic sessions makes room (TableFullTest covers the drop when all are established).
        try (Harness h = new Harness(1, 2))
        {
            h.conductor.addListener(Listener.of("web", TCP, List.of(Backend.of("198.18.10.2", 8080, 100))));
            for (int port = 1; port <= 3; port++)
            {
                assertThat(h.send(0, PacketBuilder.tcp().from("198.18.0.1", port).to("198.18.1.100", 80).flags(SYN).build()))
                    .hasSize(1);
            }
            assertThat(h.counter(FastpathCounter.DROP_TABLE_FULL)).isZero();
            assertThat(h.counter(FastpathCounter.RECLAIMED_SESSIONS)).isEqualTo(1);
            assertThat(h.counter("fastpath.listener.sessions.active." + LISTENER_LABEL)).isEqualTo(2);
        }
    }

    @Test
    void shouldKeepEstablishedSessionsFlowingWhenTheListenerChangesOrGoes()
    {
        try (Harness h = harness(900))
        {
            establish(h);
            final long g = h.conductor.setBackends(TCP, List.of(Backend.of("198.18.10.3", 8080, 100)));
            assertThat(h.send(0, client(ACK))).hasSize(1);
            assertThat(h.conductor.isApplied(g)).isTrue();
            h.conductor.removeListener(TCP);
            assertThat(h.send(0, backend(ACK))).hasSize(1);
            assertThat(h.send(0, PacketBuilder.tcp().from("198.18.0.1", 40001).to("198.18.1.100", 80).flags(SYN).build()))
                .isEmpty();
            assertThat(h.forwarders[0].lastVerdict()).isEqualTo(Verdict.DROP_NO_LISTENER);
        }
    }

    @Test
    void shouldCountEveryFrameOnceWhenANewGenerationArrivesBeforeTheCountersAreFlushed()
    {
        // established frames add to their backend's plain fields and are published at flush (BackendTraffic): frames
        // taken before a table swap the same duty cycle applies must still reach every counter, once
        try (Harness h = harness(900))
        {
            establish(h);
            for (int i = 0; i < 3; i++)
            {
                h.ports.get(0).inject(client(ACK));
            }
            h.ports.get(0).inject(backend(ACK));
            final long g = h.conductor.setBackendWeight(TCP, Backend.of("198.18.10.2", 8080, 100).key(), 50);
            h.runUntilIdle();
            assertThat(h.drainAll()).hasSize(4);
            assertThat(h.conductor.isApplied(g)).isTrue();

            assertThat(h.counter(FastpathCounter.PACKETS_IN)).isEqualTo(5);
            assertThat(h.counter(FastpathCounter.PACKETS_OUT)).isEqualTo(2);
            assertThat(h.counter(FastpathCounter.BYTES_IN)).isEqualTo(5 * 40);
            assertThat(h.counter("fastpath.listener.packets_in." + LISTENER_LABEL)).isEqualTo(5);
            assertThat(h.counter("fastpath.listener.bytes_in." + LISTENER_LABEL)).isEqualTo(5 * 40);
            assertThat(h.counter("fastpath.listener.packets_out." + LISTENER_LABEL)).isEqualTo(2);
            assertThat(h.counter("fastpath.backend.packets_in." + BACKEND_LABEL)).isEqualTo(5);
            assertThat(h.counter("fastpath.backend.bytes_out." + BACKEND_LABEL)).isEqualTo(2 * 40);
        }
    }

    @Test
    void shouldCountTheFramesOfASessionWhoseBackendWasRemovedGloballyAndOnItsListener()
    {
        try (Harness h = harness(900))
        {
            establish(h);
            h.conductor.setBackends(TCP, List.of(Backend.of("198.18.10.3", 8080, 100)));
            assertThat(h.send(0, client(ACK))).hasSize(1);
            assertThat(h.send(0, backend(ACK))).hasSize(1);

            assertThat(h.counter(FastpathCounter.PACKETS_IN)).isEqualTo(3);
            assertThat(h.counter(FastpathCounter.PACKETS_OUT)).isEqualTo(2);
            assertThat(h.counter(FastpathCounter.BYTES_OUT)).isEqualTo(2 * 40);
            assertThat(h.counter("fastpath.listener.packets_in." + LISTENER_LABEL)).isEqualTo(3);
            assertThat(h.counter("fastpath.listener.packets_out." + LISTENER_LABEL)).isEqualTo(2);
            assertThat(h.counter("fastpath.listener.bytes_out." + LISTENER_LABEL)).isEqualTo(2 * 40);
        }
    }
}
