package io.sluice.fastpath;

import java.util.ArrayList;
import java.util.List;

import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersManager;

import io.sluice.fastpath.config.NodeSettings;
import io.sluice.fastpath.packet.IpAddresses;
import io.sluice.fastpath.packet.PacketBuilder;

/**
 * The real conductor and forwarders over in-memory ports, a manual clock and a neighbour cache; forwarders are
 * driven by hand (no threads) so tests are deterministic.
 */
final class Harness implements AutoCloseable
{
    static final long BACKEND_MAC_1 = 0x02_00_00_00_0A_02L;
    static final long BACKEND_MAC_2 = 0x02_00_00_00_0A_03L;
    static final long BACKEND_MAC_3 = 0x02_00_00_00_0A_04L;
    static final long BACKEND6_MAC_1 = 0x02_00_00_00_6A_02L;
    static final long BACKEND6_MAC_2 = 0x02_00_00_00_6A_03L;
    static final long GATEWAY_MAC = PacketBuilder.CLIENT_ROUTER_MAC;

    final ManualClock clock = new ManualClock();
    final CountersManager counters =
        new CountersManager(new UnsafeBuffer(new byte[1 << 20]), new UnsafeBuffer(new byte[1 << 18]));
    final NeighbourCache neighbours = new NeighbourCache();
    final List<InMemoryPacketPort> ports = new ArrayList<>();
    final Conductor conductor;
    final ForwarderAgent[] forwarders;

    static final class ManualClock implements NanoClock
    {
        long now = 1_000_000_000_000L;

        @Override
        public long nanoTime()
        {
            return now;
        }

        void advanceSeconds(final double seconds)
        {
            now += (long)(seconds * 1e9);
        }
    }

    Harness(final int forwarders, final int sessionCapacity)
    {
        this(forwarders, sessionCapacity, ForwarderConfiguration.DEFAULT);
    }

    Harness(final int forwarders, final int sessionCapacity, final ForwarderConfiguration configuration)
    {
        for (int i = 0; i < forwarders; i++)
        {
            ports.add(new InMemoryPacketPort(PacketBuilder.LB_MAC, 64));
        }
        neighbours.put(IpAddresses.parse("198.18.10.2"), BACKEND_MAC_1);
        neighbours.put(IpAddresses.parse("198.18.10.3"), BACKEND_MAC_2);
        neighbours.put(IpAddresses.parse("198.18.10.4"), BACKEND_MAC_3);
        neighbours.put(IpAddresses.parse("2001:2:0:10::2"), BACKEND6_MAC_1);
        neighbours.put(IpAddresses.parse("2001:2:0:10::3"), BACKEND6_MAC_2);
        neighbours.defaultNextHop(GATEWAY_MAC);
        conductor = new Conductor(
            NodeSettings.of(forwarders, sessionCapacity * forwarders, "198.18.2.10", "2001:2:0:2::10"),
            configuration, counters, neighbours, ports, clock);
        this.forwarders = conductor.forwarders();
    }

    /** Runs every forwarder's duty cycle until none does work. */
    void runUntilIdle()
    {
        for (int round = 0; round < 10_000; round++)
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

    /** Injects a frame at queue {@code queue}, runs to idle, returns everything transmitted on every port. */
    List<byte[]> send(final int queue, final byte[] frame)
    {
        ports.get(queue).inject(frame);
        runUntilIdle();
        return drainAll();
    }

    record Tx(int port, byte[] frame)
    {
    }

    /** Like {@link #send} but says which port transmitted each frame. */
    List<Tx> sendTx(final int queue, final byte[] frame)
    {
        ports.get(queue).inject(frame);
        runUntilIdle();
        final List<Tx> out = new ArrayList<>();
        for (int i = 0; i < ports.size(); i++)
        {
            for (final byte[] f : ports.get(i).drainTransmitted())
            {
                out.add(new Tx(i, f));
            }
        }
        return out;
    }

    List<byte[]> drainAll()
    {
        final List<byte[]> out = new ArrayList<>();
        for (final InMemoryPacketPort p : ports)
        {
            out.addAll(p.drainTransmitted());
        }
        return out;
    }

    long counter(final String label)
    {
        final long[] value = {-1};
        counters.forEach((counterId, typeId, keyBuffer, l) ->
        {
            if (l.equals(label))
            {
                value[0] = counters.getCounterValue(counterId);
            }
        });
        if (value[0] < 0)
        {
            throw new IllegalArgumentException("no counter " + label);
        }
        return value[0];
    }

    long counter(final FastpathCounter global)
    {
        return counter(global.label());
    }

    @Override
    public void close()
    {
        conductor.close();
    }
}
