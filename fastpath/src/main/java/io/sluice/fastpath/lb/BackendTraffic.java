package io.sluice.fastpath.lb;

import io.sluice.fastpath.CounterSet;
import io.sluice.fastpath.FastpathCounter;

/**
 * Publishes the traffic a forwarder accumulated on its {@link BackendState}s (packets and bytes each way) into the
 * shared counters at flush time: the backend's, its listener's, the listener's load balancer meter and the global
 * ones. An established flow's frame then costs two plain adds instead of eight counter updates, and every counter
 * holds the same value after the flush as when each frame added to all of them.
 */
public final class BackendTraffic
{
    private static final int GLOBAL_PACKETS_IN = FastpathCounter.PACKETS_IN.slot();
    private static final int GLOBAL_BYTES_IN = FastpathCounter.BYTES_IN.slot();
    private static final int GLOBAL_PACKETS_OUT = FastpathCounter.PACKETS_OUT.slot();
    private static final int GLOBAL_BYTES_OUT = FastpathCounter.BYTES_OUT.slot();
    private static final int L_PACKETS_IN = FastpathCounter.LISTENER_PACKETS_IN.slot();
    private static final int L_BYTES_IN = FastpathCounter.LISTENER_BYTES_IN.slot();
    private static final int L_PACKETS_OUT = FastpathCounter.LISTENER_PACKETS_OUT.slot();
    private static final int L_BYTES_OUT = FastpathCounter.LISTENER_BYTES_OUT.slot();
    private static final int B_PACKETS_IN = FastpathCounter.BACKEND_PACKETS_IN.slot();
    private static final int B_BYTES_IN = FastpathCounter.BACKEND_BYTES_IN.slot();
    private static final int B_PACKETS_OUT = FastpathCounter.BACKEND_PACKETS_OUT.slot();
    private static final int B_BYTES_OUT = FastpathCounter.BACKEND_BYTES_OUT.slot();

    private BackendTraffic()
    {
    }

    /** Moves every backend's accumulated traffic of {@code table} into the counter sets (then flushed as usual). */
    public static void publish(final ListenerTable table, final CounterSet global)
    {
        for (final ListenerState l : table.listeners())
        {
            for (final BackendState b : l.backends)
            {
                if (b.packetsIn != 0)
                {
                    global.add(GLOBAL_PACKETS_IN, b.packetsIn);
                    global.add(GLOBAL_BYTES_IN, b.bytesIn);
                    l.counters.add(L_PACKETS_IN, b.packetsIn);
                    l.counters.add(L_BYTES_IN, b.bytesIn);
                    l.bandwidth.countIn(b.packetsIn, b.bytesIn);
                    b.counters.add(B_PACKETS_IN, b.packetsIn);
                    b.counters.add(B_BYTES_IN, b.bytesIn);
                    b.packetsIn = 0;
                    b.bytesIn = 0;
                }
                if (b.packetsOut != 0)
                {
                    global.add(GLOBAL_PACKETS_OUT, b.packetsOut);
                    global.add(GLOBAL_BYTES_OUT, b.bytesOut);
                    l.counters.add(L_PACKETS_OUT, b.packetsOut);
                    l.counters.add(L_BYTES_OUT, b.bytesOut);
                    l.bandwidth.countOut(b.packetsOut, b.bytesOut);
                    b.counters.add(B_PACKETS_OUT, b.packetsOut);
                    b.counters.add(B_BYTES_OUT, b.bytesOut);
                    b.packetsOut = 0;
                    b.bytesOut = 0;
                }
            }
        }
    }
}
