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

    /**
     * Moves {@code b}'s accumulated traffic into its own, its listener's and the global counter sets (then flushed as
     * usual). {@code l} is the listener that owns {@code b}.
     */
    public static void publish(final ListenerState l, final BackendState b, final CounterSet global)
    {
        if (b.packetsIn != 0)
        {
            count(global, l, b, true, b.packetsIn, b.bytesIn);
            b.packetsIn = 0;
            b.bytesIn = 0;
        }
        if (b.packetsOut != 0)
        {
            count(global, l, b, false, b.packetsOut, b.bytesOut);
            b.packetsOut = 0;
            b.bytesOut = 0;
        }
    }

    /**
     * Counts traffic straight into the counter sets: for a frame whose session's backend is no longer its listener's
     * (removed, or the listener was replaced), or for a batch at {@link #publish}.
     *
     * @param listener the listener, or null (a session that outlived it).
     * @param backend  the backend, or null.
     * @param in       client → backend (in) or backend → client (out).
     */
    public static void count(final CounterSet global, final ListenerState listener, final BackendState backend, final boolean in,
        final long packets, final long bytes)
    {
        global.add(in ? GLOBAL_PACKETS_IN : GLOBAL_PACKETS_OUT, packets);
        global.add(in ? GLOBAL_BYTES_IN : GLOBAL_BYTES_OUT, bytes);
        if (listener != null)
        {
            listener.counters.add(in ? L_PACKETS_IN : L_PACKETS_OUT, packets);
            listener.counters.add(in ? L_BYTES_IN : L_BYTES_OUT, bytes);
            if (in)
            {
                listener.bandwidth.countIn(packets, bytes);
            }
            else
            {
                listener.bandwidth.countOut(packets, bytes);
            }
        }
        if (backend != null)
        {
            backend.counters.add(in ? B_PACKETS_IN : B_PACKETS_OUT, packets);
            backend.counters.add(in ? B_BYTES_IN : B_BYTES_OUT, bytes);
        }
    }
}
