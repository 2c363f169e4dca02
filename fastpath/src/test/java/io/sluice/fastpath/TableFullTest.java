package io.sluice.fastpath;

import java.util.List;

import org.junit.jupiter.api.Test;

import io.sluice.fastpath.config.Backend;
import io.sluice.fastpath.config.Listener;
import io.sluice.fastpath.config.ListenerKey;
import io.sluice.fastpath.config.Protocol;
import io.sluice.fastpath.packet.IpAddresses;
import io.sluice.fastpath.packet.PacketBuilder;
import io.sluice.fastpath.session.FlowHash;

import static io.sluice.fastpath.packet.TcpFlyweight.ACK;
import static io.sluice.fastpath.packet.TcpFlyweight.SYN;
import static org.assertj.core.api.Assertions.assertThat;

/** Session table full: embryonic sessions are reclaimed oldest first, established ones are never evicted. */
class TableFullTest
{
    private static final ListenerKey TCP = ListenerKey.of("198.18.1.100", Protocol.TCP, 80);

    private static Harness harness(final int capacity)
    {
        final Harness h = new Harness(1, capacity);
        h.conductor.addListener(Listener.of("web", TCP, List.of(Backend.of("198.18.10.2", 8080, 100))));
        return h;
    }

    private static byte[] client(final int port, final int flags)
    {
        return PacketBuilder.tcp().from("198.18.0.1", port).to("198.18.1.100", 80).flags(flags).build();
    }

    private static byte[] backend(final int clientPort, final int flags)
    {
        final int snat = ForwarderAgent.preferredSnatPort(FlowHash.hash(0, IpAddresses.low(IpAddresses.parse("198.18.0.1")), 0,
            IpAddresses.low(IpAddresses.parse("198.18.1.100")), clientPort, 80, 6), 0, 1, 1024, 32767);
        return PacketBuilder.tcp().from("198.18.10.2", 8080).to("198.18.2.10", snat).flags(flags).build();
    }

    private static void establish(final Harness h, final int port)
    {
        assertThat(h.send(0, client(port, SYN))).hasSize(1);
        assertThat(h.send(0, backend(port, SYN | ACK))).hasSize(1);
        assertThat(h.send(0, client(port, ACK))).hasSize(1);
    }

    @Test
    void shouldNeverEvictEstablishedSessionsDuringASynFlood()
    {
        try (Harness h = harness(3))
        {
            establish(h, 40000);
            establish(h, 40001);
            for (int port = 1; port <= 500; port++)
            {
                assertThat(h.send(0, client(port, SYN))).hasSize(1);
                h.clock.advanceSeconds(0.01);
            }
            assertThat(h.counter(FastpathCounter.RECLAIMED_SESSIONS)).isEqualTo(499);
            assertThat(h.counter(FastpathCounter.DROP_TABLE_FULL)).isZero();
            assertThat(h.forwarders[0].sessions().liveCount()).isEqualTo(3);
            assertThat(h.counter(FastpathCounter.ACTIVE_SESSIONS)).isEqualTo(3);
            for (final int port : new int[] {40000, 40001})
            {
                assertThat(h.send(0, client(port, ACK))).hasSize(1);
                assertThat(h.send(0, backend(port, ACK))).hasSize(1);
            }
        }
    }

    @Test
    void shouldReclaimTheOldestEmbryonicSessionFirst()
    {
        try (Harness h = harness(3))
        {
            establish(h, 40000);
            assertThat(h.send(0, client(1, SYN))).hasSize(1);
            h.clock.advanceSeconds(5);
            h.runUntilIdle();
            assertThat(h.send(0, client(2, SYN))).hasSize(1);
            h.clock.advanceSeconds(5);
            h.runUntilIdle();
            assertThat(h.send(0, client(3, SYN))).hasSize(1);
            assertThat(h.counter(FastpathCounter.RECLAIMED_SESSIONS)).isEqualTo(1);
            assertThat(h.send(0, backend(1, SYN | ACK))).isEmpty();
            assertThat(h.forwarders[0].lastVerdict()).isEqualTo(Verdict.DROP_UNSOLICITED);
            assertThat(h.send(0, backend(2, SYN | ACK))).hasSize(1);
            assertThat(h.send(0, backend(3, SYN | ACK))).hasSize(1);
            assertThat(h.send(0, client(40000, ACK))).hasSize(1);
        }
    }

    @Test
    void shouldDropAndCountNewFlowsWhenEverySessionIsEstablished()
    {
        try (Harness h = harness(2))
        {
            establish(h, 40000);
            establish(h, 40001);
            assertThat(h.send(0, client(1, SYN))).isEmpty();
            assertThat(h.forwarders[0].lastVerdict()).isEqualTo(Verdict.DROP_TABLE_FULL);
            assertThat(h.counter(FastpathCounter.DROP_TABLE_FULL)).isEqualTo(1);
            assertThat(h.counter("fastpath.listener.drop.table_full.web")).isEqualTo(1);
            assertThat(h.counter(FastpathCounter.RECLAIMED_SESSIONS)).isZero();
            assertThat(h.send(0, client(40000, ACK))).hasSize(1);
        }
    }

    @Test
    void shouldReuseAClosedRecordBeforeItsWheelSlotComesRound()
    {
        try (Harness h = harness(1))
        {
            establish(h, 40000);
            assertThat(h.send(0, client(40000, io.sluice.fastpath.packet.TcpFlyweight.RST))).hasSize(1);
            assertThat(h.forwarders[0].sessions().recordsInUse()).isEqualTo(1);
            establish(h, 40001);
            assertThat(h.counter(FastpathCounter.RECLAIMED_SESSIONS)).isEqualTo(1);
            assertThat(h.counter(FastpathCounter.ACTIVE_SESSIONS)).isEqualTo(1);
            h.clock.advanceSeconds(100);
            h.runUntilIdle();
            assertThat(h.send(0, client(40001, ACK))).hasSize(1);
        }
    }
}
