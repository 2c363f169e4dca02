package io.sluice.control.usage;

import io.sluice.control.config.Listener;
import io.sluice.control.config.LoadBalancer;
import io.sluice.control.config.SluiceConfig;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersReader;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Turns the data plane's per-listener byte, packet and request counters into one usage record per load balancer per
 * minute. {@link #sample(long)} is called at every minute boundary by the node; the change of each counter since the
 * previous sample is the minute's usage (a counter that went down was recreated, e.g. its listener was re-added: its whole
 * value counts). Counters are matched by label:
 * <ul>
 *   <li>L4 listeners, the fastpath's naming {@code fastpath.listener.bytes_out.LB.PROTO.PORT}
 *   ({@link LoadBalancer#fastpathListenerName}) (and packets, inbound);</li>
 *   <li>L7 listeners (http, https), the proxy's {@code l7.bytes_out[LB/PROTO:PORT]}, {@code l7.bytes_in[..]} and
 *   {@code l7.requests[..]} ({@link LoadBalancer#listenerName}): bytes on the client sockets (TLS records included), no packet counts (the kernel's TCP stack
 *   segments them, so packets out of an L7 listener are not known to the proxy and are billed as 0).</li>
 * </ul>
 */
public final class UsageMeter
{
    static final String BYTES_OUT = "fastpath.listener.bytes_out.";
    static final String PACKETS_OUT = "fastpath.listener.packets_out.";
    static final String BYTES_IN = "fastpath.listener.bytes_in.";
    static final String PACKETS_IN = "fastpath.listener.packets_in.";
    static final String L7_BYTES_OUT = "l7.bytes_out[";
    static final String L7_BYTES_IN = "l7.bytes_in[";
    static final String L7_REQUESTS = "l7.requests[";
    private static final String[] KINDS = {BYTES_OUT, PACKETS_OUT, BYTES_IN, PACKETS_IN, L7_BYTES_OUT, L7_BYTES_IN, L7_REQUESTS};
    /** Per kind of record total (bytesOut, packetsOut, bytesIn, packetsIn, requests): the L4 and L7 label prefixes. */
    private static final String[] L4_BY_TOTAL = {BYTES_OUT, PACKETS_OUT, BYTES_IN, PACKETS_IN, null};
    private static final String[] L7_BY_TOTAL = {L7_BYTES_OUT, null, L7_BYTES_IN, null, L7_REQUESTS};

    private final CountersReader counters;
    private final Supplier<SluiceConfig> config;
    private final UsageJournal journal;
    private final AtomicCounter recordsWritten;
    private final Map<String, Long> previous = new HashMap<>();
    private SluiceConfig previousConfig;
    private long lastMinuteEndMs;

    public UsageMeter(final CountersReader counters, final Supplier<SluiceConfig> config, final UsageJournal journal,
        final AtomicCounter recordsWritten)
    {
        this.counters = counters;
        this.config = config;
        this.journal = journal;
        this.recordsWritten = recordsWritten;
    }

    private static LoadBalancer union(final LoadBalancer before, final LoadBalancer after)
    {
        final java.util.List<Listener> listeners = new java.util.ArrayList<>(after.listeners());
        for (final Listener old : before.listeners())
        {
            if (after.listener(old.key()) == null)
            {
                listeners.add(old);
            }
        }
        return new LoadBalancer(after.name(), after.vip(), after.bandwidthMbps(), listeners, after.serverGroups());
    }

    /**
     * Records the usage of the minute that ended at {@code minuteEndMs} (a multiple of 60 000).
     *
     * @return records written.
     */
    public synchronized int sample(final long minuteEndMs)
    {
        if (minuteEndMs <= lastMinuteEndMs)
        {
            return 0;
        }
        lastMinuteEndMs = minuteEndMs;
        final Map<String, Long> now = new HashMap<>();
        counters.forEach((id, typeId, key, label) ->
        {
            for (final String kind : KINDS)
            {
                if (label.startsWith(kind))
                {
                    now.merge(label, counters.getCounterValue(id), Long::sum);
                }
            }
        });
        int written = 0;
        // Load balancers of the config the minute started with count too: one removed mid-minute still had traffic.
        final SluiceConfig current = config.get();
        final Map<String, LoadBalancer> byName = new java.util.LinkedHashMap<>();
        if (previousConfig != null)
        {
            previousConfig.loadBalancers().forEach(lb -> byName.put(lb.name(), lb));
        }
        current.loadBalancers().forEach(lb -> byName.merge(lb.name(), lb, UsageMeter::union));
        previousConfig = current;
        for (final LoadBalancer lb : byName.values())
        {
            final long[] totals = new long[L4_BY_TOTAL.length];
            for (final Listener listener : lb.listeners())
            {
                final boolean l7 = listener.isL7();
                final String[] prefixes = l7 ? L7_BY_TOTAL : L4_BY_TOTAL;
                final String suffix = l7 ? lb.listenerName(listener) + "]" : lb.fastpathListenerName(listener);
                for (int k = 0; k < totals.length; k++)
                {
                    if (prefixes[k] == null)
                    {
                        continue;
                    }
                    final String label = prefixes[k] + suffix;
                    final Long value = now.get(label);
                    if (value != null)
                    {
                        final long before = previous.getOrDefault(label, 0L);
                        totals[k] += value >= before ? value - before : value;
                    }
                }
            }
            if (totals[0] + totals[1] + totals[2] + totals[3] + totals[4] > 0)
            {
                journal.append(new UsageJournal.Record(lb.name(), minuteEndMs - 60_000, totals[0], totals[1], totals[2], totals[3],
                    totals[4]));
                recordsWritten.incrementRelease();
                written++;
            }
        }
        previous.clear();
        previous.putAll(now);
        return written;
    }
}
