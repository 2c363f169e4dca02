package io.sluice.nativeio;

import io.sluice.nativeio.bpf.Bpf;
import io.sluice.nativeio.xdp.SteeringCounter;
import io.sluice.nativeio.xdp.VipKey;
import io.sluice.nativeio.xdp.XdpSteering;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersManager;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static io.sluice.nativeio.TestPackets.frame;
import static io.sluice.nativeio.TestPackets.ip;
import static org.assertj.core.api.Assertions.assertThat;

class NativeCountersTest
{
    @Test
    void shouldPublishSteeringCountsWithStableTypeIdsAndLabels()
    {
        final CountersManager manager = new CountersManager(new UnsafeBuffer(new byte[1 << 20]), new UnsafeBuffer(new byte[1 << 18]));
        try (XdpSteering steering = XdpSteering.load(4, 16);
            NativeCounters counters = NativeCounters.forSteering(manager, steering, "eth1"))
        {
            steering.addVip(ip("198.18.0.100"), 80, VipKey.IPPROTO_TCP, XdpSteering.Action.DROP);
            Bpf.testRun(steering.programFd(), frame().ip("198.18.9.9", "198.18.0.100").tcpSyn(1, 80).build());
            Bpf.testRun(steering.programFd(), frame().ip("198.18.9.9", "198.18.0.100").tcpSyn(1, 80).build());
            Bpf.testRun(steering.programFd(), frame().etherType(0x0806).build());
            counters.update();

            final Map<String, Long> byLabel = new HashMap<>();
            final Map<String, Integer> typeByLabel = new HashMap<>();
            manager.forEach((counterId, typeId, keyBuffer, label) ->
            {
                byLabel.put(label, manager.getCounterValue(counterId));
                typeByLabel.put(label, typeId);
            });
            assertThat(byLabel).containsEntry("xdp.steer.drop_entry.eth1", 2L).containsEntry("xdp.steer.pass_unmatched.eth1", 1L);
            assertThat(typeByLabel.get("xdp.steer.drop_entry.eth1"))
                .isEqualTo(NativeCounterType.STEER_BASE + SteeringCounter.DROP_ENTRY.index())
                .isEqualTo(NativeCounterType.STEER_DROP_ENTRY.id());
            for (final SteeringCounter counter : SteeringCounter.values())
            {
                assertThat(NativeCounterType.values()[counter.index()].label()).isEqualTo(counter.label());
            }
        }
    }
}
