package io.sluice.fastpath;

import java.util.List;

import org.junit.jupiter.api.Test;

import io.sluice.fastpath.config.Backend;
import io.sluice.fastpath.config.Listener;
import io.sluice.fastpath.config.ListenerKey;
import io.sluice.fastpath.config.Protocol;
import io.sluice.fastpath.lb.NewFlowLimiter;
import io.sluice.fastpath.packet.PacketBuilder;

import static io.sluice.fastpath.packet.TcpFlyweight.SYN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** newConnectionsPerSecond and newConnectionsPerSourcePerSecond: token buckets on new flows, dropped and counted. */
class NewFlowLimitTest
{
    private static final ListenerKey TCP = ListenerKey.of("198.18.1.100", Protocol.TCP, 80);
    private static final ListenerKey UDP = ListenerKey.of("198.18.1.100", Protocol.UDP, 53);

    private static Harness harness(final int perSecond, final int perSource)
    {
        final Harness h = new Harness(1, 4096);
        h.conductor.addListener(Listener.of("web", TCP, List.of(Backend.of("198.18.10.2", 8080, 100)))
            .withNewConnectionLimits(perSecond, perSource));
        h.conductor.addListener(Listener.of("dns", UDP, List.of(Backend.of("198.18.10.2", 5353, 100)))
            .withNewConnectionLimits(perSecond, perSource));
        return h;
    }

    private static byte[] syn(final String client, final int port)
    {
        return PacketBuilder.tcp().from(client, port).to("198.18.1.100", 80).flags(SYN).build();
    }

    private static int admitted(final Harness h, final String client, final int firstPort, final int count)
    {
        int sent = 0;
        for (int i = 0; i < count; i++)
        {
            sent += h.send(0, syn(client, firstPort + i)).size();
        }
        return sent;
    }

    @Test
    void shouldAdmitTheListenersRatePerSecondAndDropTheRest()
    {
        try (Harness h = harness(10, 0))
        {
            assertThat(admitted(h, "198.18.0.1", 1000, 25)).isEqualTo(10);
            assertThat(h.counter(FastpathCounter.DROP_NEW_FLOW_RATE)).isEqualTo(15);
            assertThat(h.counter("fastpath.listener.drop.new_flow_rate.web")).isEqualTo(15);
            assertThat(h.counter("fastpath.listener.drop.new_flow_rate.dns")).isZero();
            assertThat(h.forwarders[0].lastVerdict()).isEqualTo(Verdict.DROP_NEW_FLOW_RATE);
            h.clock.advanceSeconds(0.5);
            assertThat(admitted(h, "198.18.0.2", 2000, 10)).isEqualTo(5);
            h.clock.advanceSeconds(5);
            assertThat(admitted(h, "198.18.0.3", 3000, 20)).isEqualTo(10);
            assertThat(h.counter(FastpathCounter.NEW_SESSIONS)).isEqualTo(25);
        }
    }

    @Test
    void shouldLimitEachSourceOnItsOwnWhileOthersStillConnect()
    {
        try (Harness h = harness(0, 3))
        {
            assertThat(admitted(h, "198.18.0.1", 1000, 10)).isEqualTo(3);
            assertThat(h.counter(FastpathCounter.DROP_SOURCE_NEW_FLOW_RATE)).isEqualTo(7);
            assertThat(h.counter("fastpath.listener.drop.source_new_flow_rate.web")).isEqualTo(7);
            assertThat(h.forwarders[0].lastVerdict()).isEqualTo(Verdict.DROP_SOURCE_NEW_FLOW_RATE);
            for (int c = 2; c < 50; c++)
            {
                assertThat(admitted(h, "198.18.0." + c, 1000, 3)).isEqualTo(3);
            }
            // a flow costs 1/3 s rounded up to the ns (the token bucket never gives more than the rate): three are
            // back 2 ns after the second
            h.clock.advanceSeconds(1.000_000_01);
            assertThat(admitted(h, "198.18.0.1", 2000, 10)).isEqualTo(3);
            assertThat(h.counter(FastpathCounter.DROP_NEW_FLOW_RATE)).isZero();
        }
    }

    @Test
    void shouldLimitUdpFlowsButNotPacketsOfAdmittedFlows()
    {
        try (Harness h = harness(2, 0))
        {
            for (int port = 1; port <= 4; port++)
            {
                h.send(0, PacketBuilder.udp().from("198.18.0.1", port).to("198.18.1.100", 53).payload("q").build());
            }
            assertThat(h.counter(FastpathCounter.NEW_SESSIONS)).isEqualTo(2);
            assertThat(h.counter(FastpathCounter.DROP_NEW_FLOW_RATE)).isEqualTo(2);
            for (int i = 0; i < 10; i++)
            {
                assertThat(h.send(0, PacketBuilder.udp().from("198.18.0.1", 1).to("198.18.1.100", 53).payload("q").build()))
                    .hasSize(1);
            }
        }
    }

    @Test
    void shouldShareTheRatesOverForwarders()
    {
        final NewFlowLimiter limiter = new NewFlowLimiter(10, 3, 4);
        int listener = 0;
        int source = 0;
        for (int i = 0; i < 10; i++)
        {
            listener += limiter.tryListener(0) ? 1 : 0;
            source += limiter.trySource(0x1234_5678_9ABCL, 0) ? 1 : 0;
        }
        assertThat(listener).isEqualTo(3);
        assertThat(source).isEqualTo(1);
        assertThat(NewFlowLimiter.of(0, 0, 4)).isNull();
    }

    @Test
    void shouldRejectNegativeRates()
    {
        assertThatThrownBy(() -> Listener.of("web", TCP, List.of()).withNewConnectionLimits(-1, 0))
            .hasMessageContaining("newConnectionsPerSecond: -1");
        assertThatThrownBy(() -> Listener.of("web", TCP, List.of()).withNewConnectionLimits(0, -2))
            .hasMessageContaining("newConnectionsPerSourcePerSecond: -2");
    }
}
