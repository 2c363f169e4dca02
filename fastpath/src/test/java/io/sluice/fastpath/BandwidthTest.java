package io.sluice.fastpath;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.sluice.fastpath.config.Backend;
import io.sluice.fastpath.config.Listener;
import io.sluice.fastpath.config.ListenerKey;
import io.sluice.fastpath.config.Protocol;
import io.sluice.fastpath.packet.PacketBuilder;

import static io.sluice.fastpath.ForwarderPacketTest.V4;
import static io.sluice.fastpath.packet.PacketBuilder.LB_MAC;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * bandwidthMbps on listeners and load balancers: node-wide token buckets on the outbound direction (towards clients),
 * burst 100 ms of the rate, then a queue of 100 ms of the rate, then drops; metering per listener and per instance.
 */
class BandwidthTest
{
    /** 20 + 8 + 972: one IPv4 datagram of 1000 bytes, what the buckets count. */
    private static final int PAYLOAD_BYTES = 972;

    @Test
    void shouldQueueOutboundBeyondTheBurstDropBeyondTheQueueAndReleaseInOrderAsTheBucketRefills()
    {
        try (Harness h = new Harness(1, 1024))
        {
            // 1 Mbit/s = 125000 B/s: a burst of 12500 B (12 datagrams of 1000 B), a queue of 12500 B (12 datagrams)
            h.conductor.addListener(ForwarderPacketTest.udpListener(V4).withBandwidthMbps(1));
            assertThat(h.send(0, ForwarderPacketTest.clientUdp(V4).build())).hasSize(1);

            assertThat(answers(h, 0, 30, 53)).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
            assertThat(h.counter("fastpath.listener.bandwidth.delayed.dns")).isEqualTo(12);
            assertThat(h.counter(FastpathCounter.DROP_BANDWIDTH)).isEqualTo(6);
            assertThat(h.counter("fastpath.listener.drop.bandwidth.dns")).isEqualTo(6);

            h.clock.advanceSeconds(0.05);
            h.runUntilIdle();
            assertThat(sequence(h.drainAll())).as("500 B left + 50 ms × 125000 B/s pays the queue, in order")
                .containsExactly(12, 13, 14, 15, 16, 17);

            h.clock.advanceSeconds(5);
            h.runUntilIdle();
            assertThat(sequence(h.drainAll())).containsExactly(18, 19, 20, 21, 22, 23);
            h.clock.advanceSeconds(5);
            assertThat(answers(h, 100, 20, 53)).as("a long pause refills only the burst").hasSize(12);
            assertThat(h.counter("fastpath.listener.packets_out.dns")).as("sent and queued frames are metered")
                .isEqualTo(12 + 12 + 12 + 8);
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
                forwarded += h.send(0, ForwarderPacketTest.clientUdp(V4).payload("x".repeat(PAYLOAD_BYTES)).build()).size();
            }
            assertThat(forwarded).isEqualTo(50);

            h.conductor.updateListener(ForwarderPacketTest.udpListener(V4));
            h.runUntilIdle();
            assertThat(answers(h, 0, 50, 53)).hasSize(50);
            assertThat(h.counter(FastpathCounter.DROP_BANDWIDTH)).isZero();
        }
    }

    @Test
    void shouldHoldAllListenersOfALoadBalancerToItsPeakAndMeterThem()
    {
        try (Harness h = new Harness(1, 1024))
        {
            final Listener second = Listener.of("dns2", ListenerKey.of(V4.vip(), Protocol.UDP, 54),
                List.of(Backend.of(V4.backend1(), 5354, 100)));
            h.conductor.addListener(ForwarderPacketTest.udpListener(V4));
            h.conductor.addListener(second.withBandwidthMbps(2));
            h.conductor.setInstance("web", 1, List.of(ForwarderPacketTest.udpListener(V4).key(), second.key()));
            assertThat(h.send(0, ForwarderPacketTest.clientUdp(V4).build())).hasSize(1);
            assertThat(h.send(0, ForwarderPacketTest.clientUdp(V4).to(V4.vip(), 54).build())).hasSize(1);

            assertThat(answers(h, 0, 8, 53)).as("the instance's burst, 12500 B").hasSize(8);
            assertThat(answers(h, 8, 20, 54)).as("what the first listener left of it").hasSize(4);
            assertThat(h.counter("fastpath.instance.packets_out.web")).as("sent and queued").isEqualTo(8 + 4 + 12);
            assertThat(h.counter("fastpath.instance.bytes_out.web")).isEqualTo((8 + 4 + 12) * 1000);
            assertThat(h.counter("fastpath.instance.packets_in.web")).isEqualTo(2);
            assertThat(h.counter("fastpath.instance.bytes_in.web")).as("two queries of 20 + 8 + 5 bytes").isEqualTo(66);
            assertThat(h.counter("fastpath.instance.bandwidth.delayed.web")).isEqualTo(12);
            assertThat(h.counter("fastpath.instance.drop.bandwidth.web")).isEqualTo(4);
        }
    }

    @Test
    void shouldEnforceTheClusterShareOfEveryLimit()
    {
        try (Harness h = new Harness(1, 1024))
        {
            h.conductor.addListener(ForwarderPacketTest.udpListener(V4).withBandwidthMbps(2));
            h.conductor.setBandwidthShare(2);
            assertThat(h.send(0, ForwarderPacketTest.clientUdp(V4).build())).hasSize(1);
            assertThat(answers(h, 0, 30, 53)).as("2 Mbit/s ÷ 2 nodes: a burst of 12500 B").hasSize(12);

            h.conductor.setBandwidthShare(1);
            h.clock.advanceSeconds(5);
            h.runUntilIdle();
            h.drainAll();
            h.clock.advanceSeconds(5);
            assertThat(answers(h, 100, 40, 53)).as("the whole 2 Mbit/s again: a burst of 25000 B").hasSize(25);
        }
    }

    /** Sends {@code count} answers from the backend numbered from {@code first}; @return the numbers sent at once. */
    private static List<Integer> answers(final Harness h, final int first, final int count, final int vipPort)
    {
        final List<byte[]> out = new ArrayList<>();
        final int backendPort = vipPort == 53 ? 5353 : 5354;
        for (int i = first; i < first + count; i++)
        {
            final String payload = String.format("%06d", i) + "x".repeat(PAYLOAD_BYTES - 6);
            out.addAll(h.send(0, PacketBuilder.udp().macs(V4.backendMac(), LB_MAC).from(V4.backend1(), backendPort)
                .to(V4.local(), ForwarderPacketTest.snat(V4, 41000, vipPort, 17)).payload(payload).build()));
        }
        return sequence(out);
    }

    private static List<Integer> sequence(final List<byte[]> frames)
    {
        final List<Integer> numbers = new ArrayList<>();
        for (final byte[] f : frames)
        {
            // Ethernet 14 + IPv4 20 + UDP 8
            numbers.add(Integer.parseInt(new String(f, 42, 6, StandardCharsets.US_ASCII)));
        }
        return numbers;
    }
}
