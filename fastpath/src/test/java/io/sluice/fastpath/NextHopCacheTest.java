package io.sluice.fastpath;

import java.util.List;

import org.junit.jupiter.api.Test;

import io.sluice.fastpath.config.Backend;
import io.sluice.fastpath.config.Listener;
import io.sluice.fastpath.config.ListenerKey;
import io.sluice.fastpath.config.Protocol;
import io.sluice.fastpath.packet.IpAddresses;
import io.sluice.fastpath.packet.PacketBuilder;

import static org.assertj.core.api.Assertions.assertThat;

/** The next hop cached per backend follows every change of the neighbour table. */
class NextHopCacheTest
{
    private static final long NEW_MAC = 0x02_00_00_00_0B_0BL;

    private static long destinationMac(final byte[] frame)
    {
        long mac = 0;
        for (int i = 0; i < 6; i++)
        {
            mac = (mac << 8) | (frame[i] & 0xFF);
        }
        return mac;
    }

    private static byte[] request()
    {
        return PacketBuilder.udp().from("198.18.0.1", 41000).to("198.18.1.100", 53).payload("q").build();
    }

    @Test
    void shouldSendAnEstablishedFlowToTheBackendsNewMacOnceTheNeighbourChanges()
    {
        try (Harness h = new Harness(1, 1024))
        {
            h.conductor.addListener(Listener.of("dns", ListenerKey.of("198.18.1.100", Protocol.UDP, 53),
                List.of(Backend.of("198.18.10.2", 5353, 100))));
            assertThat(destinationMac(h.send(0, request()).get(0))).isEqualTo(Harness.BACKEND_MAC_1);
            assertThat(destinationMac(h.send(0, request()).get(0))).isEqualTo(Harness.BACKEND_MAC_1);

            h.neighbours.put(IpAddresses.parse("198.18.10.2"), NEW_MAC);
            assertThat(destinationMac(h.send(0, request()).get(0))).isEqualTo(NEW_MAC);

            h.neighbours.remove(IpAddresses.parse("198.18.10.2"));
            h.neighbours.defaultNextHop(NeighbourTable.NO_MAC);
            assertThat(h.send(0, request())).isEmpty();
            assertThat(h.forwarders[0].lastVerdict()).isEqualTo(Verdict.NEIGHBOUR_QUEUED);

            h.neighbours.put(IpAddresses.parse("198.18.10.2"), Harness.BACKEND_MAC_1);
            h.runUntilIdle();
            h.drainAll();
            assertThat(destinationMac(h.send(0, request()).get(0))).isEqualTo(Harness.BACKEND_MAC_1);
            assertThat(h.counter(FastpathCounter.NEW_SESSIONS)).isEqualTo(1);
        }
    }
}
