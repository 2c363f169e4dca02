package io.sluice.fastpath;

import java.util.HexFormat;
import java.util.List;

import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersManager;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.sluice.fastpath.config.Backend;
import io.sluice.fastpath.config.Listener;
import io.sluice.fastpath.config.ListenerKey;
import io.sluice.fastpath.config.NodeSettings;
import io.sluice.fastpath.config.Protocol;
import io.sluice.fastpath.packet.FrameChecks;
import io.sluice.fastpath.packet.IpAddresses;
import io.sluice.fastpath.packet.PacketBuilder;
import io.sluice.fastpath.session.FlowHash;

import static io.sluice.fastpath.packet.TcpFlyweight.ACK;
import static io.sluice.fastpath.packet.TcpFlyweight.SYN;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A node with a client-side and a backend-side data interface: every forwarder polls its queue on both, and a frame
 * leaves by the interface its next hop sits on, with that interface's MAC as source — whichever it arrived on.
 */
class TwoInterfacesTest
{
    private static final long UPLINK_MAC = 0x02_00_00_00_01_10L;
    private static final long SEGMENT_MAC = 0x02_00_00_00_02_10L;
    private static final long GATEWAY_MAC = PacketBuilder.CLIENT_ROUTER_MAC;
    private static final long BACKEND_MAC = 0x02_00_00_00_0A_02L;
    private static final String CLIENT = "198.18.1.2";
    private static final String VIP = "198.18.0.100";
    private static final String BACKEND = "198.18.10.2";
    private static final String LOCAL = "198.18.10.201";

    @ParameterizedTest(name = "{0} forwarders")
    @ValueSource(ints = {1, 2})
    void shouldLeaveByTheInterfaceOfTheNextHop(final int forwarderCount)
    {
        final CountersManager counters =
            new CountersManager(new UnsafeBuffer(new byte[1 << 20]), new UnsafeBuffer(new byte[1 << 18]));
        final NeighbourCache neighbours = new NeighbourCache();
        neighbours.put(IpAddresses.parse(BACKEND), 1, BACKEND_MAC);
        neighbours.defaultNextHop(0, GATEWAY_MAC);
        final InMemoryPacketPort[][] ports = new InMemoryPacketPort[forwarderCount][];
        for (int i = 0; i < forwarderCount; i++)
        {
            ports[i] = new InMemoryPacketPort[] {new InMemoryPacketPort(UPLINK_MAC, 64), new InMemoryPacketPort(SEGMENT_MAC, 64)};
        }
        final Harness.ManualClock clock = new Harness.ManualClock();
        try (Conductor conductor = new Conductor(NodeSettings.of(forwarderCount, 1024 * forwarderCount, LOCAL),
            ForwarderConfiguration.DEFAULT, counters, neighbours, ports, clock))
        {
            conductor.addListener(Listener.of("web", ListenerKey.of(VIP, Protocol.TCP, 80), List.of(Backend.of(BACKEND, 8080, 100))));
            final ForwarderAgent[] forwarders = conductor.forwarders();
            for (int clientPort = 40000; clientPort < 40004; clientPort++)
            {
                final long hash = FlowHash.hash(0, IpAddresses.low(IpAddresses.parse(CLIENT)), 0,
                    IpAddresses.low(IpAddresses.parse(VIP)), clientPort, 80, 6);
                final int owner = ForwarderAgent.ownerOf(hash, forwarderCount);
                final int snat = ForwarderAgent.preferredSnatPort(hash, owner, forwarderCount, NodeSettings.DEFAULT_SNAT_PORT_MIN,
                    NodeSettings.DEFAULT_SNAT_PORT_MAX);
                // the SYN arrives on the uplink at queue 0 (a non-owner hands it over) and leaves on the segment
                ports[0][0].inject(PacketBuilder.tcp().macs(GATEWAY_MAC, UPLINK_MAC).from(CLIENT, clientPort).to(VIP, 80)
                    .flags(SYN).build());
                runUntilIdle(forwarders);
                assertTransmitted(ports, owner, 1, PacketBuilder.tcp().macs(SEGMENT_MAC, BACKEND_MAC).from(LOCAL, snat)
                    .to(BACKEND, 8080).flags(SYN).build());

                // the answer arrives on the segment and leaves on the uplink towards the gateway
                ports[snat % forwarderCount][1].inject(PacketBuilder.tcp().macs(BACKEND_MAC, SEGMENT_MAC).from(BACKEND, 8080)
                    .to(LOCAL, snat).flags(SYN | ACK).build());
                runUntilIdle(forwarders);
                assertTransmitted(ports, owner, 0, PacketBuilder.tcp().macs(UPLINK_MAC, GATEWAY_MAC).from(VIP, 80)
                    .to(CLIENT, clientPort).flags(SYN | ACK).build());
            }
        }
    }

    private static void assertTransmitted(final InMemoryPacketPort[][] ports, final int forwarder, final int slot,
        final byte[] expected)
    {
        for (int f = 0; f < ports.length; f++)
        {
            for (int s = 0; s < ports[f].length; s++)
            {
                final List<byte[]> sent = ports[f][s].drainTransmitted();
                if (f == forwarder && s == slot)
                {
                    assertThat(sent).hasSize(1);
                    assertThat(HexFormat.of().formatHex(sent.get(0))).isEqualTo(HexFormat.of().formatHex(expected));
                    assertThat(FrameChecks.checksumsValid(sent.get(0))).isTrue();
                }
                else
                {
                    assertThat(sent).as("forwarder %d interface %d", f, s).isEmpty();
                }
            }
        }
    }

    private static void runUntilIdle(final ForwarderAgent[] forwarders)
    {
        for (int round = 0; round < 1000; round++)
        {
            int work = 0;
            for (final ForwarderAgent f : forwarders)
            {
                work += f.doWork();
            }
            if (work == 0)
            {
                return;
            }
        }
        throw new IllegalStateException("forwarders never went idle");
    }
}
