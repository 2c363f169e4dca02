package io.sluice.fastpath;

import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import io.sluice.fastpath.config.Backend;
import io.sluice.fastpath.config.Listener;
import io.sluice.fastpath.config.ListenerKey;
import io.sluice.fastpath.config.Protocol;
import io.sluice.fastpath.config.SchedulerKind;
import io.sluice.fastpath.packet.PacketBuilder;
import io.sluice.fastpath.packet.TcpFlyweight;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Schedulers through the real forwarder: shares, persistence, up/down and weight commands. */
class SchedulingTest
{
    private static final ListenerKey KEY = ListenerKey.of("198.18.1.100", Protocol.TCP, 80);
    private static final List<Backend> WEIGHTED = List.of(
        Backend.of("198.18.10.2", 8080, 100), Backend.of("198.18.10.3", 8080, 300), Backend.of("198.18.10.4", 8080, 600));

    private static byte[] syn(final int flow)
    {
        return PacketBuilder.tcp().from("198.18." + (flow >> 14 & 1) + "." + (1 + (flow >> 8 & 63)), 1024 + (flow & 0xFF) * 200 +
            (flow >> 15)).to("198.18.1.100", 80).flags(TcpFlyweight.SYN).build();
    }

    private static byte[] synFrom(final String client, final int port)
    {
        return PacketBuilder.tcp().from(client, port).to("198.18.1.100", 80).flags(TcpFlyweight.SYN).build();
    }

    /** Last octet of the destination address of a rewritten IPv4 frame: which backend got it. */
    private static int backendOf(final byte[] frame)
    {
        return new UnsafeBuffer(frame).getInt(14 + 16, ByteOrder.BIG_ENDIAN) & 0xFF;
    }

    private static Map<Integer, Integer> distribute(final Harness h, final int flows, final int queues)
    {
        final Map<Integer, Integer> shares = new HashMap<>();
        for (int flow = 0; flow < flows; flow++)
        {
            for (final byte[] out : h.send(flow % queues, syn(flow)))
            {
                shares.merge(backendOf(out), 1, Integer::sum);
            }
        }
        return shares;
    }

    @Test
    void shouldSpreadTenThousandFlowsWithinFivePercentOfWrrWeights()
    {
        try (Harness h = new Harness(2, 16384))
        {
            h.conductor.addListener(Listener.of("web", KEY, WEIGHTED).withScheduler(SchedulerKind.WRR));
            final Map<Integer, Integer> shares = distribute(h, 10_000, 2);
            assertThat(shares.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(10_000);
            assertThat(shares.get(2) / 10_000.0).isCloseTo(0.1, within(0.005));
            assertThat(shares.get(3) / 10_000.0).isCloseTo(0.3, within(0.015));
            assertThat(shares.get(4) / 10_000.0).isCloseTo(0.6, within(0.03));
        }
    }

    @Test
    void shouldHonourMaglevWeights()
    {
        try (Harness h = new Harness(1, 16384))
        {
            h.conductor.addListener(Listener.of("web", KEY, WEIGHTED).withScheduler(SchedulerKind.MAGLEV));
            final Map<Integer, Integer> shares = distribute(h, 10_000, 1);
            assertThat(shares.get(2) / 10_000.0).isCloseTo(0.1, within(0.02));
            assertThat(shares.get(3) / 10_000.0).isCloseTo(0.3, within(0.03));
            assertThat(shares.get(4) / 10_000.0).isCloseTo(0.6, within(0.03));
        }
    }

    @Test
    void shouldRoundRobinIgnoringWeights()
    {
        try (Harness h = new Harness(1, 4096))
        {
            h.conductor.addListener(Listener.of("web", KEY, WEIGHTED).withScheduler(SchedulerKind.RR));
            final Map<Integer, Integer> shares = distribute(h, 300, 1);
            assertThat(shares).containsEntry(2, 100).containsEntry(3, 100).containsEntry(4, 100);
        }
    }

    @Test
    void shouldPreferTheLeastLoadedBackendPerWeightWithWlc()
    {
        try (Harness h = new Harness(1, 4096))
        {
            h.conductor.addListener(Listener.of("web", KEY, WEIGHTED).withScheduler(SchedulerKind.WLC));
            final Map<Integer, Integer> shares = distribute(h, 1000, 1);
            // Active sessions stay open, so wlc converges on the weights (100:300:600) exactly.
            assertThat(shares.get(2)).isCloseTo(100, within(1));
            assertThat(shares.get(3)).isCloseTo(300, within(1));
            assertThat(shares.get(4)).isCloseTo(600, within(1));
        }
    }

    @Test
    void shouldKeepOneClientOnOneBackendWithSourceHashing()
    {
        try (Harness h = new Harness(1, 4096))
        {
            h.conductor.addListener(Listener.of("web", KEY, WEIGHTED).withScheduler(SchedulerKind.SH));
            for (int client = 1; client < 40; client++)
            {
                final int first = backendOf(h.send(0, synFrom("198.18.0." + client, 1000)).get(0));
                for (int port = 1001; port < 1010; port++)
                {
                    assertThat(backendOf(h.send(0, synFrom("198.18.0." + client, port)).get(0))).isEqualTo(first);
                }
            }
        }
    }

    @Test
    void shouldPinAClientWithPersistenceUntilTheTimeoutAcrossForwarders()
    {
        try (Harness h = new Harness(4, 4096))
        {
            h.conductor.addListener(Listener.of("web", KEY, WEIGHTED).withScheduler(SchedulerKind.RR)
                .withPersistenceTimeoutSeconds(60));
            final int first = backendOf(h.send(0, synFrom("198.18.0.9", 1000)).get(0));
            for (int port = 1001; port < 1020; port++)
            {
                assertThat(backendOf(h.send(port % 4, synFrom("198.18.0.9", port)).get(0))).isEqualTo(first);
            }
            h.clock.advanceSeconds(61);
            final Map<Integer, Integer> after = new HashMap<>();
            for (int port = 2000; port < 2006; port++)
            {
                after.merge(backendOf(h.send(0, synFrom("198.18.0.9", port)).get(0)), 1, Integer::sum);
                h.clock.advanceSeconds(61);
            }
            assertThat(after).hasSizeGreaterThan(1);
        }
    }

    @Test
    void shouldSendNewFlowsOnlyToBackendsThatAreUpAndKeepEstablishedOnes()
    {
        try (Harness h = new Harness(1, 4096))
        {
            h.conductor.addListener(Listener.of("web", KEY, WEIGHTED).withScheduler(SchedulerKind.RR));
            final byte[] first = synFrom("198.18.0.5", 5000);
            assertThat(backendOf(h.send(0, first).get(0))).isEqualTo(2);
            h.conductor.setBackendState(KEY, WEIGHTED.get(0).key(), false);
            for (int port = 1; port < 30; port++)
            {
                assertThat(backendOf(h.send(0, synFrom("198.18.0.5", 6000 + port)).get(0))).isNotEqualTo(2);
            }
            // The established flow keeps its backend while it is down (health checks only stop new flows).
            final byte[] data = PacketBuilder.tcp().from("198.18.0.5", 5000).to("198.18.1.100", 80)
                .flags(TcpFlyweight.ACK).build();
            assertThat(backendOf(h.send(0, data).get(0))).isEqualTo(2);

            h.conductor.setBackendState(KEY, WEIGHTED.get(0).key(), true);
            h.conductor.setBackendWeight(KEY, WEIGHTED.get(1).key(), 0);
            h.conductor.setBackendWeight(KEY, WEIGHTED.get(2).key(), 0);
            for (int port = 1; port < 10; port++)
            {
                assertThat(backendOf(h.send(0, synFrom("198.18.0.5", 7000 + port)).get(0))).isEqualTo(2);
            }
        }
    }
}
