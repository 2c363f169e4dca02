package io.sluice.perf.jmh.fastpath;

import java.util.ArrayList;
import java.util.List;

import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersManager;

import io.sluice.fastpath.Conductor;
import io.sluice.fastpath.ForwarderAgent;
import io.sluice.fastpath.ForwarderConfiguration;
import io.sluice.fastpath.InMemoryPacketPort;
import io.sluice.fastpath.NeighbourCache;
import io.sluice.fastpath.config.Backend;
import io.sluice.fastpath.config.Listener;
import io.sluice.fastpath.config.ListenerKey;
import io.sluice.fastpath.config.NodeSettings;
import io.sluice.fastpath.config.Protocol;
import io.sluice.fastpath.config.SchedulerKind;
import io.sluice.fastpath.packet.IpAddresses;

/** One real forwarder (conductor-built) with a TCP and a UDP listener, driven directly from the benchmark thread. */
final class ForwarderFixture implements AutoCloseable
{
    static final String VIP = "198.18.1.100";
    static final int VIP_INT = Frames.ip(198, 18, 1, 100);

    final MutableClock clock = new MutableClock();
    final Conductor conductor;
    final ForwarderAgent forwarder;

    static final class MutableClock implements NanoClock
    {
        long now = 1_000_000_000_000L;

        @Override
        public long nanoTime()
        {
            return now;
        }
    }

    ForwarderFixture(final int sessionCapacity, final int backends, final int localAddresses, final SchedulerKind scheduler)
    {
        final NeighbourCache neighbours = new NeighbourCache();
        neighbours.defaultNextHop(Frames.CLIENT_MAC);
        final List<Backend> servers = new ArrayList<>();
        for (int i = 0; i < backends; i++)
        {
            final String address = "198.18.10." + (2 + i);
            servers.add(Backend.of(address, 8080, 100));
            neighbours.put(IpAddresses.parse(address), 0x02_00_00_00_0A_00L + i);
        }
        final List<java.net.InetAddress> locals = new ArrayList<>();
        for (int i = 0; i < localAddresses; i++)
        {
            locals.add(IpAddresses.parse("198.18.2." + (10 + i)));
        }
        final CountersManager counters =
            new CountersManager(new UnsafeBuffer(new byte[1 << 20]), new UnsafeBuffer(new byte[1 << 18]));
        conductor = new Conductor(new NodeSettings(1, sessionCapacity, locals, NodeSettings.DEFAULT_SNAT_PORT_MIN,
            NodeSettings.DEFAULT_SNAT_PORT_MAX), ForwarderConfiguration.DEFAULT, counters, neighbours,
            List.of(new InMemoryPacketPort(Frames.LB_MAC, 64)), clock);
        conductor.addListener(Listener.of("web", ListenerKey.of(VIP, Protocol.TCP, 80), servers).withScheduler(scheduler));
        conductor.addListener(Listener.of("dns", ListenerKey.of(VIP, Protocol.UDP, 53), servers).withScheduler(scheduler));
        forwarder = conductor.forwarders()[0];
        forwarder.doWork();
    }

    @Override
    public void close()
    {
        conductor.close();
    }
}
