package io.sluice.fastpath;

import io.sluice.fastpath.lb.BackendState;
import io.sluice.fastpath.lb.BackendTraffic;
import io.sluice.fastpath.lb.ListenerState;
import io.sluice.fastpath.lb.ListenerTable;
import io.sluice.nativeio.xdp.XdpFlowTable;

/**
 * The XDP flow offload of one node (docs/fastpath.md, "XDP flow offload"): the forwarders install each FullNAT
 * session's two directions into the BPF flow table the steering program of every data interface reads, and the program
 * then rewrites and redirects the session's ordinary frames in the driver; SYN, FIN, RST, partial checksums and stale
 * entries still come up to the forwarder, which keeps the session's state, timers and limits.
 * <p>
 * Shared by the forwarders (each with its own {@link XdpFlowTable.Writer}) and the neighbour resolver: a next hop
 * whose MAC changes bumps the table's epoch ({@link #neighboursChanged}), which makes every installed entry stale; the
 * program hands a stale entry's frames to the forwarder, which re-installs the entry with the MACs it knows now.
 * Forwarder 0 folds the program's per-backend traffic counters into the counters once a {@link #FOLD_INTERVAL_NS}.
 */
public final class FlowOffload
{
    /** Backend counter slots of the flow table: one per backend id. */
    public static final int COUNTER_SLOTS = ForwarderAgent.MAX_IDS;
    /** How often forwarder 0 folds the program's counters into the backend, listener, load balancer and global ones. */
    public static final long FOLD_INTERVAL_NS = 1_000_000_000L;
    /** Bytes of locked kernel memory per offloaded session (two hash entries of 40 + 88 bytes plus the map's overhead). */
    public static final int BYTES_PER_SESSION = 2 * 192;
    private static final int GLOBAL_OFFLOAD_PACKETS = FastpathCounter.OFFLOAD_PACKETS.slot();

    private final XdpFlowTable table;
    private final int[] ifindexBySlot;
    private volatile int epoch;
    private final long[] read = new long[4];
    private final long[] folded = new long[COUNTER_SLOTS * 4];

    /**
     * @param ifindexBySlot the kernel ifindex of each data interface, in the forwarders' interface-slot order.
     */
    public FlowOffload(final XdpFlowTable table, final int[] ifindexBySlot)
    {
        this.table = table;
        this.ifindexBySlot = ifindexBySlot.clone();
        this.epoch = table.epoch();
    }

    public XdpFlowTable table()
    {
        return table;
    }

    /** The epoch new entries are installed under; read before the MACs they carry. */
    public int epoch()
    {
        return epoch;
    }

    public int ifindex(final int slot)
    {
        return ifindexBySlot[slot];
    }

    /** A known next hop changed or went: every installed entry becomes stale (control path; a bpf(2) call). */
    public synchronized void neighboursChanged()
    {
        epoch = table.bumpEpoch();
    }

    /** A writer for one forwarder thread. */
    public XdpFlowTable.Writer writer()
    {
        return table.writer();
    }

    /**
     * Adds what the program forwarded since the last fold to the counters of {@code tables}' backends and their
     * listeners (and so load balancers and global): one bpf(2) lookup per backend. Forwarder 0's thread only.
     */
    void fold(final ListenerTable tables, final CounterSet global)
    {
        for (final ListenerState listener : tables.listeners())
        {
            for (final BackendState backend : listener.backends)
            {
                final int at = backend.id * 4;
                table.counters(backend.id, read);
                final long packetsIn = read[0] - folded[at];
                final long bytesIn = read[1] - folded[at + 1];
                final long packetsOut = read[2] - folded[at + 2];
                final long bytesOut = read[3] - folded[at + 3];
                if (packetsIn > 0)
                {
                    BackendTraffic.count(global, listener, backend, true, packetsIn, bytesIn);
                }
                if (packetsOut > 0)
                {
                    BackendTraffic.count(global, listener, backend, false, packetsOut, bytesOut);
                }
                global.add(GLOBAL_OFFLOAD_PACKETS, packetsIn + packetsOut);
                System.arraycopy(read, 0, folded, at, 4);
            }
        }
    }
}
