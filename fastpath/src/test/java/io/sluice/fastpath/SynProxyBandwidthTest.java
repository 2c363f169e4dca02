package io.sluice.fastpath;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import io.sluice.fastpath.ForwarderPacketTest.Family;
import io.sluice.fastpath.SynProxyTest.Seg;
import io.sluice.fastpath.config.Backend;
import io.sluice.fastpath.config.Listener;
import io.sluice.fastpath.config.ListenerKey;
import io.sluice.fastpath.config.Protocol;

import static io.sluice.fastpath.SynProxyTest.BACKEND_ISN;
import static io.sluice.fastpath.SynProxyTest.CLIENT_ISN;
import static io.sluice.fastpath.SynProxyTest.CLIENT_PORT;
import static io.sluice.fastpath.packet.TcpFlyweight.ACK;
import static io.sluice.fastpath.packet.TcpFlyweight.PSH;
import static io.sluice.fastpath.packet.TcpFlyweight.SYN;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A synProxy listener with a bandwidth peak: segments the peak holds back in the shaping queue leave later with their
 * sequence numbers translated exactly like the ones sent at once (the queue copies the fully rewritten frame).
 */
class SynProxyBandwidthTest
{
    private static final int SEGMENT = 900;

    static List<Family> families()
    {
        return SynProxyTest.families();
    }

    @ParameterizedTest
    @MethodSource("families")
    void shouldTranslateSequenceNumbersOfSegmentsTheBandwidthQueueHeld(final Family f)
    {
        try (Harness h = new Harness(1, 1024))
        {
            h.conductor.addListener(Listener.of("web", ListenerKey.of(f.vip(), Protocol.TCP, 80),
                List.of(Backend.of(f.backend1(), 8080, 100))).withSynProxy(true).withBandwidthMbps(1));
            final int cookie = SynProxyTest.cookieFor(h, f, CLIENT_PORT, CLIENT_ISN);
            SynProxyTest.only(h.send(0, SynProxyTest.client(f, CLIENT_PORT, ACK, CLIENT_ISN + 1, cookie + 1, "", 0)));
            SynProxyTest.only(h.send(0, SynProxyTest.backend(f, SYN | ACK, BACKEND_ISN, CLIENT_ISN + 1, "")));

            final String payload = "d".repeat(SEGMENT);
            final List<Seg> out = new ArrayList<>();
            for (int i = 0; i < 20; i++)
            {
                for (final byte[] frame : h.send(0, SynProxyTest.backend(f, ACK | PSH, BACKEND_ISN + 1 + i * SEGMENT,
                    CLIENT_ISN + 1, payload)))
                {
                    out.add(Seg.of(frame));
                }
            }
            final int sentAtOnce = out.size();
            assertThat(sentAtOnce).as("1 Mbit/s: a 12500-byte burst passes, the rest waits").isBetween(1, 19);
            assertThat(h.counter("fastpath.listener.bandwidth.delayed.web")).isPositive();

            h.clock.advanceSeconds(1);
            h.runUntilIdle();
            for (final byte[] frame : h.drainAll())
            {
                out.add(Seg.of(frame));
            }
            assertThat(out.size()).as("held segments leave once the bucket refills").isGreaterThan(sentAtOnce);
            for (int i = 0; i < out.size(); i++)
            {
                assertThat(out.get(i).seq()).as("segment %d (held: %s)", i, i >= sentAtOnce)
                    .isEqualTo(cookie + 1 + i * SEGMENT);
                assertThat(out.get(i).dst()).isEqualTo(SynProxyTest.canonical(f.client()));
            }
        }
    }
}
