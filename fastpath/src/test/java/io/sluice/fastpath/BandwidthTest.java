package io.sluice.fastpath;

import org.junit.jupiter.api.Test;

import io.sluice.fastpath.packet.PacketBuilder;

import static io.sluice.fastpath.ForwarderPacketTest.V4;
import static io.sluice.fastpath.packet.PacketBuilder.LB_MAC;
import static org.assertj.core.api.Assertions.assertThat;

/** bandwidthMbps: a token bucket on the outbound direction (towards clients), burst ≈ 100 ms of the rate. */
class BandwidthTest
{
    /** 20 + 8 + 972: one IPv4 datagram of 1000 bytes, what the bucket counts. */
    private static final String PAYLOAD = "x".repeat(972);

    @Test
    void shouldDropOutboundBeyondTheBurstAndRefillWithTime()
    {
        try (Harness h = new Harness(1, 1024))
        {
            // 1 Mbit/s = 125000 B/s: a burst of 12500 B, 12 datagrams of 1000 B
            h.conductor.addListener(ForwarderPacketTest.udpListener(V4).withBandwidthMbps(1));
            assertThat(h.send(0, ForwarderPacketTest.clientUdp(V4).build())).hasSize(1);

            assertThat(answers(h, 20)).isEqualTo(12);
            assertThat(h.counter(FastpathCounter.DROP_BANDWIDTH)).isEqualTo(8);
            assertThat(h.counter("fastpath.listener.drop.bandwidth.dns")).isEqualTo(8);

            h.clock.advanceSeconds(0.05);
            assertThat(answers(h, 20)).as("500 B left + 50 ms × 125000 B/s").isEqualTo(6);

            h.clock.advanceSeconds(5);
            assertThat(answers(h, 20)).as("a long pause refills only the burst").isEqualTo(12);
        }
    }

    @Test
    void shouldNeverLimitTheInboundDirectionNorAnUnlimitedListener()
    {
        try (Harness h = new Harness(1, 1024))
        {
            h.conductor.addListener(ForwarderPacketTest.udpListener(V4).withBandwidthMbps(1));
            int forwarded = 0;
            for (int i = 0; i < 50; i++)
            {
                forwarded += h.send(0, ForwarderPacketTest.clientUdp(V4).payload(PAYLOAD).build()).size();
            }
            assertThat(forwarded).isEqualTo(50);

            h.conductor.updateListener(ForwarderPacketTest.udpListener(V4));
            h.runUntilIdle();
            assertThat(answers(h, 50)).isEqualTo(50);
            assertThat(h.counter(FastpathCounter.DROP_BANDWIDTH)).isZero();
        }
    }

    private static int answers(final Harness h, final int count)
    {
        int sent = 0;
        for (int i = 0; i < count; i++)
        {
            sent += h.send(0, PacketBuilder.udp().macs(V4.backendMac(), LB_MAC).from(V4.backend1(), 5353)
                .to(V4.local(), ForwarderPacketTest.udpSnat(V4)).payload(PAYLOAD).build()).size();
        }
        return sent;
    }
}
