package io.sluice.fastpath;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

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

/**
 * A pure SYN has its index slots loaded early from the backend the scheduler would choose (ForwarderAgent.warmNewFlow):
 * that guess must never change what the forwarder decides.
 */
class NewFlowWarmTest
{
    private static final ListenerKey KEY = ListenerKey.of("198.18.1.100", Protocol.TCP, 80);
    private static final List<Backend> WEIGHTED = List.of(
        Backend.of("198.18.10.2", 8080, 1), Backend.of("198.18.10.3", 8080, 2), Backend.of("198.18.10.4", 8080, 4));

    private static byte[] syn(final int flow)
    {
        return PacketBuilder.tcp().from("198.18.0." + (1 + flow / 200), 2000 + flow % 200).to("198.18.1.100", 80)
            .flags(TcpFlyweight.SYN).build();
    }

    /** Last octet of the destination address of a rewritten IPv4 frame: which backend got it. */
    private static int backendOf(final byte[] frame)
    {
        return new UnsafeBuffer(frame).getInt(14 + 16, ByteOrder.BIG_ENDIAN) & 0xFF;
    }

    /** Local port of a rewritten IPv4 TCP frame: the SNAT choice. */
    private static int localPortOf(final byte[] frame)
    {
        return new UnsafeBuffer(frame).getShort(14 + 20, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    @Test
    void shouldScheduleNewFlowsAloneWhateverRetransmittedSynsComeBetweenThem()
    {
        for (final SchedulerKind kind : SchedulerKind.values())
        {
            try (Harness plain = new Harness(1, 4096); Harness retransmitting = new Harness(1, 4096))
            {
                plain.conductor.addListener(Listener.of("web", KEY, WEIGHTED).withScheduler(kind));
                retransmitting.conductor.addListener(Listener.of("web", KEY, WEIGHTED).withScheduler(kind));
                final List<Integer> expected = new ArrayList<>();
                final List<Integer> actual = new ArrayList<>();
                for (int flow = 0; flow < 300; flow++)
                {
                    final byte[] out = plain.send(0, syn(flow)).get(0);
                    expected.add(backendOf(out) << 16 | localPortOf(out));
                    final byte[] first = retransmitting.send(0, syn(flow)).get(0);
                    actual.add(backendOf(first) << 16 | localPortOf(first));
                    // The SYN again (lost SYN-ACK): the warm-up peeks the scheduler, the lookup finds the live session.
                    final byte[] again = retransmitting.send(0, syn(flow)).get(0);
                    assertThat(backendOf(again) << 16 | localPortOf(again)).as("%s flow %d again", kind, flow)
                        .isEqualTo(actual.get(flow));
                }
                assertThat(actual).as("%s", kind).isEqualTo(expected);
                assertThat(retransmitting.counter(FastpathCounter.NEW_SESSIONS)).isEqualTo(300);
            }
        }
    }
}
