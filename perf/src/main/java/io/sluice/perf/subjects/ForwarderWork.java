package io.sluice.perf.subjects;

import io.sluice.counters.CounterSnapshot;
import io.sluice.counters.CountersFile;
import io.sluice.fastpath.FastpathCounter;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The "forwarder work time per packet": wall time of the forwarders' {@code doWork} calls that did work
 * ({@code fastpath.forwarder.work_ns}, summed over forwarders by the node) over the frames they forwarded
 * ({@code fastpath.packets_in} + {@code fastpath.packets_out}), read from the node's counters file before and after a
 * run. Idle spinning, yielding and sleeping in poll(2) never count, so unlike thread CPU time it does not depend on the
 * idle strategy; the syscalls of the batch I/O (tx kicks, which in copy mode run the veth transmit and the receiver's
 * softirq inline) do.
 */
final class ForwarderWork
{
    private static final String[] NAMES = {FastpathCounter.FORWARDER_WORK_NANOS.label(),
        FastpathCounter.FORWARDER_BUSY_CYCLES.label(), FastpathCounter.PACKETS_IN.label(), FastpathCounter.PACKETS_OUT.label()};

    private static final String XSK_RX_DROPPED = "xsk.drop.rx_dropped.";
    private static final String XSK_RX_RING_FULL = "xsk.drop.rx_ring_full.";

    private ForwarderWork()
    {
    }

    /**
     * @return work ns, busy cycles, packets in, packets out, xsk rx drops, tx_full, hand-offs, hand-off wake-ups,
     *     frames the XDP flow offload forwarded (counted in packets in and out too); null without a counters file (yet).
     */
    static long[] read(final Path stateDir)
    {
        if (stateDir == null)
        {
            return null;
        }
        try (CountersFile file = CountersFile.openForReading(stateDir.resolve(CountersFile.FILE_NAME)))
        {
            final CounterSnapshot snapshot = CounterSnapshot.take(file.reader());
            final long[] values = new long[NAMES.length + 5];
            for (int i = 0; i < NAMES.length; i++)
            {
                values[i] = snapshot.value(NAMES[i]);
            }
            // where frames are lost: the kernel could not put them on an AF_XDP socket's rx ring (no fill-ring frame:
            // rx_dropped, or rx ring full), or the forwarder found no room in a tx ring
            for (final CounterSnapshot.Entry entry : snapshot.counters())
            {
                if (entry.name().startsWith(XSK_RX_DROPPED) || entry.name().startsWith(XSK_RX_RING_FULL))
                {
                    values[NAMES.length] += entry.value();
                }
            }
            values[NAMES.length + 1] = snapshot.value(FastpathCounter.DROP_TX_FULL.label());
            values[NAMES.length + 2] = snapshot.value(FastpathCounter.HANDOFFS.label());
            values[NAMES.length + 3] = snapshot.value(FastpathCounter.HANDOFF_WAKEUPS.label());
            values[NAMES.length + 4] = snapshot.value(FastpathCounter.OFFLOAD_PACKETS.label());
            return values;
        }
        catch (final RuntimeException ex)
        {
            return null;
        }
    }

    /**
     * forwarderWorkNsPerPacket, forwarderWorkUsPerUnit, packetsPerBusyCycle, xskRxDropPercent (frames the kernel dropped
     * at the sockets' rx side, as a share of the frames that arrived for the forwarders), txFullPerUnit and
     * handoffsPerUnit (frames a forwarder passed to the flow's owner: only with more than one forwarder) and
     * handoffWakeupsPerUnit (of those, the ones that found the owner asleep in poll(2) and woke it) and
     * offloadedPacketsPerUnit (frames the XDP flow offload forwarded, which the per-frame figures leave out) between two
     * readings (empty when either is missing).
     */
    static Map<String, Double> perUnit(final long[] start, final long[] end, final double units)
    {
        final Map<String, Double> extra = new LinkedHashMap<>();
        if (start == null || end == null || units <= 0)
        {
            return extra;
        }
        final double workNs = end[0] - start[0];
        final double cycles = end[1] - start[1];
        // the forwarders' own frames: packets in and out also count the frames the XDP flow offload forwarded
        final double offloaded = end[NAMES.length + 4] - start[NAMES.length + 4];
        final double packets = (end[2] - start[2]) + (end[3] - start[3]) - offloaded;
        if (packets > 0)
        {
            extra.put("forwarderWorkNsPerPacket", workNs / packets);
        }
        extra.put("forwarderWorkUsPerUnit", workNs / 1e3 / units);
        if (cycles > 0)
        {
            extra.put("packetsPerBusyCycle", packets / cycles);
        }
        final double rxDrops = end[NAMES.length] - start[NAMES.length];
        // the rx drop counters cover every forwarder socket, the backends' side too: so do the frames that arrived
        final double arrived = packets + rxDrops;
        extra.put("xskRxDropPercent", arrived > 0 ? 100 * rxDrops / arrived : 0);
        extra.put("txFullPerUnit", (end[NAMES.length + 1] - start[NAMES.length + 1]) / units);
        extra.put("handoffsPerUnit", (end[NAMES.length + 2] - start[NAMES.length + 2]) / units);
        extra.put("handoffWakeupsPerUnit", (end[NAMES.length + 3] - start[NAMES.length + 3]) / units);
        extra.put("offloadedPacketsPerUnit", offloaded / units);
        return extra;
    }
}
