package io.sluice.fastpath;

import java.util.List;

import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersManager;
import org.junit.jupiter.api.Test;

import io.sluice.fastpath.config.Backend;
import io.sluice.fastpath.config.Listener;
import io.sluice.fastpath.config.ListenerKey;
import io.sluice.fastpath.config.NodeSettings;
import io.sluice.fastpath.config.Protocol;
import io.sluice.fastpath.packet.IpAddresses;
import io.sluice.fastpath.packet.PacketBuilder;

import static io.sluice.fastpath.packet.TcpFlyweight.SYN;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The forwarder's work time (issue 5: time in doWork calls that did work ÷ packets): busy duty cycles add their clock
 * time to {@code fastpath.forwarder.work_ns} and count in {@code fastpath.forwarder.busy_cycles}; idle ones add nothing.
 */
class DutyCycleAccountingTest
{
    private static final long LB_MAC = 0x02_00_00_00_01_10L;
    private static final long BACKEND_MAC = 0x02_00_00_00_0A_02L;
    private static final String VIP = "198.18.0.100";
    private static final String BACKEND = "198.18.10.2";

    /** Every read is 1 µs after the previous one, so a duty cycle's time is 1 µs per clock read inside it. */
    private static final class SteppingClock implements NanoClock
    {
        private long now = 1_000_000_000_000L;

        @Override
        public long nanoTime()
        {
            now += 1_000;
            return now;
        }
    }

    @Test
    void shouldCountOnlyDutyCyclesThatDidWork()
    {
        final CountersManager counters =
            new CountersManager(new UnsafeBuffer(new byte[1 << 20]), new UnsafeBuffer(new byte[1 << 18]));
        final NeighbourCache neighbours = new NeighbourCache();
        neighbours.put(IpAddresses.parse(BACKEND), BACKEND_MAC);
        neighbours.defaultNextHop(PacketBuilder.CLIENT_ROUTER_MAC);
        final InMemoryPacketPort port = new InMemoryPacketPort(LB_MAC, 64);
        try (Conductor conductor = new Conductor(NodeSettings.of(1, 1024, "198.18.10.201"), ForwarderConfiguration.DEFAULT,
            counters, neighbours, List.of(port), new SteppingClock()))
        {
            conductor.addListener(Listener.of("web", ListenerKey.of(VIP, Protocol.TCP, 80), List.of(Backend.of(BACKEND, 8080, 100))));
            final ForwarderAgent forwarder = conductor.forwarders()[0];
            while (forwarder.doWork() > 0)
            {
                // applies the listener table
            }
            final long workBefore = counter(counters, FastpathCounter.FORWARDER_WORK_NANOS);
            final long cyclesBefore = counter(counters, FastpathCounter.FORWARDER_BUSY_CYCLES);
            for (int i = 0; i < 100; i++)
            {
                assertThat(forwarder.doWork()).isZero();
            }
            assertThat(counter(counters, FastpathCounter.FORWARDER_WORK_NANOS)).isEqualTo(workBefore);
            assertThat(counter(counters, FastpathCounter.FORWARDER_BUSY_CYCLES)).isEqualTo(cyclesBefore);

            port.inject(PacketBuilder.tcp().macs(PacketBuilder.CLIENT_ROUTER_MAC, LB_MAC).from("198.18.1.2", 40000).to(VIP, 80)
                .flags(SYN).build());
            assertThat(forwarder.doWork()).isPositive();
            assertThat(forwarder.doWork()).isZero();
            assertThat(port.drainTransmitted()).hasSize(1);
            assertThat(counter(counters, FastpathCounter.FORWARDER_BUSY_CYCLES) - cyclesBefore).isEqualTo(1);
            // at least the cycle's first and last clock reads apart
            assertThat(counter(counters, FastpathCounter.FORWARDER_WORK_NANOS) - workBefore).isGreaterThanOrEqualTo(1_000);
        }
    }

    private static long counter(final CountersManager counters, final FastpathCounter counter)
    {
        final long[] value = {-1};
        counters.forEach((id, typeId, key, label) ->
        {
            if (label.equals(counter.label()))
            {
                value[0] = counters.getCounterValue(id);
            }
        });
        return value[0];
    }
}
