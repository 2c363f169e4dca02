package io.sluice.fastpath;

import java.nio.ByteOrder;
import java.util.List;
import java.util.SplittableRandom;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.sluice.fastpath.config.Backend;
import io.sluice.fastpath.config.Listener;
import io.sluice.fastpath.config.ListenerKey;
import io.sluice.fastpath.config.Protocol;
import io.sluice.fastpath.packet.FrameChecks;
import io.sluice.fastpath.packet.PacketBuilder;
import io.sluice.fastpath.packet.TcpFlyweight;

import static org.assertj.core.api.Assertions.assertThat;

/** Both directions of every flow meet at one owner, whichever queue the frames arrive on. */
class OwnershipTest
{
    private static final int SRC_PORT_OFFSET = 14 + 20;
    private static final int DST_PORT_OFFSET = 14 + 20 + 2;

    @ParameterizedTest(name = "N = {0}")
    @ValueSource(ints = {1, 2, 4})
    void shouldProcessBothDirectionsAtTheOwnerWhicheverQueueReceivesThem(final int n)
    {
        try (Harness h = new Harness(n, 4096))
        {
            h.conductor.addListener(Listener.of("web", ListenerKey.of("198.18.1.100", Protocol.TCP, 80),
                List.of(Backend.of("198.18.10.2", 8080, 100), Backend.of("198.18.10.3", 8080, 100))));
            final SplittableRandom random = new SplittableRandom(7);
            final int[] perOwner = new int[n];
            for (int flow = 0; flow < 400; flow++)
            {
                final int clientPort = 20000 + flow;
                final byte[] syn = PacketBuilder.tcp().from("198.18.0." + (1 + flow % 200), clientPort)
                    .to("198.18.1.100", 80).flags(TcpFlyweight.SYN).build();
                final int inQueue = random.nextInt(n);
                final List<Harness.Tx> out = h.sendTx(inQueue, syn);
                assertThat(out).hasSize(1);
                final int owner = out.get(0).port();
                perOwner[owner]++;

                final UnsafeBuffer rewritten = new UnsafeBuffer(out.get(0).frame());
                final int snatPort = rewritten.getShort(SRC_PORT_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
                assertThat(snatPort % n).as("SNAT port %d is congruent to owner %d", snatPort, owner).isEqualTo(owner);
                final String backend = ((rewritten.getInt(14 + 16, ByteOrder.BIG_ENDIAN) & 0xFF) == 2) ? "198.18.10.2" :
                    "198.18.10.3";

                final byte[] reply = PacketBuilder.tcp().macs(Harness.BACKEND_MAC_1, PacketBuilder.LB_MAC)
                    .from(backend, 8080).to("198.18.2.10", snatPort).flags(TcpFlyweight.SYN | TcpFlyweight.ACK).build();
                final List<Harness.Tx> back = h.sendTx(random.nextInt(n), reply);
                assertThat(back).hasSize(1);
                assertThat(back.get(0).port()).isEqualTo(owner);
                final UnsafeBuffer translated = new UnsafeBuffer(back.get(0).frame());
                assertThat(translated.getShort(DST_PORT_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF).isEqualTo(clientPort);
                assertThat(FrameChecks.checksumsValid(back.get(0).frame())).isTrue();
            }
            for (int i = 0; i < n; i++)
            {
                assertThat(perOwner[i]).as("forwarder %d owns some flows", i).isGreaterThan(400 / n / 2);
                assertThat(h.forwarders[i].sessions().liveCount()).isEqualTo(perOwner[i]);
            }
            if (n > 1)
            {
                assertThat(h.counter(FastpathCounter.HANDOFFS)).isGreaterThan(0);
            }
            assertThat(h.counter(FastpathCounter.ACTIVE_SESSIONS)).isEqualTo(400);
        }
    }

    @Test
    void shouldRingTheOwnersDoorbellForEveryDutyCycleThatHandedItFrames()
    {
        try (Harness h = new Harness(2, 4096))
        {
            h.conductor.addListener(Listener.of("web", ListenerKey.of("198.18.1.100", Protocol.TCP, 80),
                List.of(Backend.of("198.18.10.2", 8080, 100))));
            h.runUntilIdle();
            final int[] rung = new int[2];
            // forwarder 1 is "asleep" (its doorbell answers true: woken), forwarder 0 is awake (false)
            final HandoffWakeup[] wakeups = {() -> ++rung[0] < 0, () -> ++rung[1] > 0};
            for (final ForwarderAgent f : h.forwarders)
            {
                f.handoffWakeups(wakeups);
            }
            int handedToOne = 0;
            int handedToZero = 0;
            for (int flow = 0; flow < 64; flow++)
            {
                final byte[] syn = PacketBuilder.tcp().from("198.18.0.7", 30000 + flow).to("198.18.1.100", 80)
                    .flags(TcpFlyweight.SYN).build();
                // every SYN arrives at forwarder 0 (one per duty cycle): the ones forwarder 1 owns are handed off, and the cycle
                // rings 1's doorbell
                h.ports.get(0).inject(syn);
                h.forwarders[0].doWork();
                if (h.forwarders[1].hasHandedOffFrames())
                {
                    handedToOne++;
                }
                h.runUntilIdle();
                assertThat(h.forwarders[1].hasHandedOffFrames()).as("the owner read what it was handed").isFalse();
                h.drainAll();
                // and its reply arrives at forwarder 1: the ones forwarder 0 owns go back the other way
                final byte[] reply = PacketBuilder.tcp().macs(Harness.BACKEND_MAC_1, PacketBuilder.LB_MAC)
                    .from("198.18.10.2", 8080).to("198.18.2.10", 1024 + 2 * flow).flags(TcpFlyweight.RST).build();
                h.ports.get(1).inject(reply);
                h.forwarders[1].doWork();
                if (h.forwarders[0].hasHandedOffFrames())
                {
                    handedToZero++;
                }
                h.runUntilIdle();
                h.drainAll();
            }
            assertThat(handedToOne).isGreaterThan(0);
            assertThat(handedToZero).isGreaterThan(0);
            assertThat(rung[1]).isEqualTo(handedToOne);
            assertThat(rung[0]).isEqualTo(handedToZero);
            assertThat(h.counter(FastpathCounter.HANDOFFS)).isEqualTo(handedToOne + handedToZero);
            assertThat(h.counter(FastpathCounter.HANDOFF_WAKEUPS)).as("only the sleeping owner's wake-ups count")
                .isEqualTo(handedToOne);
        }
    }
}
