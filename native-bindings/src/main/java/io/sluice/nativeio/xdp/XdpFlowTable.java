package io.sluice.nativeio.xdp;

import io.sluice.nativeio.Errno;
import io.sluice.nativeio.Libc;
import io.sluice.nativeio.NativeException;
import io.sluice.nativeio.bpf.Bpf;
import io.sluice.nativeio.bpf.BpfMap;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The established-flow offload table that the XDP steering programs of every data interface share (Katran-style):
 * once the forwarder has a FullNAT session it installs the session's two directions here, and the program rewrites
 * and redirects those flows' frames in the driver (see {@link SteeringProgram}); only new flows, TCP SYN/FIN/RST and
 * anything unusual still reach user space.
 * <p>
 * Maps: {@code flows} (HASH, preallocated, {@link FlowKey} → {@link FlowValue}), {@code flow_epoch} (ARRAY of one
 * u32: entries of another epoch are stale and left to the forwarder, e.g. after a neighbour's MAC changed) and
 * {@code flow_counters} (PERCPU_ARRAY, slot → {@link FlowValue#COUNTERS_LENGTH} bytes of packets/bytes per direction).
 * <p>
 * Writes go through a {@link Writer}, one per thread: preallocated off-heap keys, values and attrs, so installing a
 * session's two directions costs one bpf(2) call ({@link Writer#commit}) and no allocation. The steering programs hold their own references to the maps;
 * closing the table closes this process's fds only.
 */
public final class XdpFlowTable implements AutoCloseable
{
    private static final ValueLayout.OfLong LONG_BE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfShort SHORT_BE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final long V4_MAPPED_PREFIX = 0xFFFFL;

    private final int maxFlows;
    private final int counterSlots;
    private final BpfMap flows;
    private final BpfMap epoch;
    private final BpfMap counters;
    private final Arena arena = Arena.ofShared();
    private final int perCpuBytes;
    private final MemorySegment epochAttr;
    private final MemorySegment epochKey;
    private final MemorySegment epochValue;
    private final MemorySegment countersAttr;
    private final MemorySegment countersKey;
    private final MemorySegment countersValue;

    private XdpFlowTable(final int maxFlows, final int counterSlots, final BpfMap flows, final BpfMap epoch,
        final BpfMap counters)
    {
        this.maxFlows = maxFlows;
        this.counterSlots = counterSlots;
        this.flows = flows;
        this.epoch = epoch;
        this.counters = counters;
        perCpuBytes = FlowValue.COUNTERS_LENGTH * Libc.possibleCpus();
        epochAttr = arena.allocate(Bpf.ATTR_ELEM_SIZE, 8);
        epochKey = arena.allocate(8, 8);
        epochValue = arena.allocate(8, 8);
        countersAttr = arena.allocate(Bpf.ATTR_ELEM_SIZE, 8);
        countersKey = arena.allocate(8, 8);
        countersValue = arena.allocate(perCpuBytes, 8);
    }

    /**
     * Create the three maps.
     *
     * @param maxFlows     entries of {@code flows} (two per session: one per direction), preallocated
     * @param counterSlots entries of {@code flow_counters}
     */
    public static XdpFlowTable create(final int maxFlows, final int counterSlots)
    {
        if (maxFlows < 1 || counterSlots < 1)
        {
            throw new IllegalArgumentException("maxFlows " + maxFlows + " and counterSlots " + counterSlots + " must be ≥ 1");
        }
        BpfMap flows = null;
        BpfMap epoch = null;
        BpfMap counters = null;
        try
        {
            flows = BpfMap.create(Bpf.BPF_MAP_TYPE_HASH, FlowKey.LENGTH, FlowValue.LENGTH, maxFlows, "flows");
            epoch = BpfMap.create(Bpf.BPF_MAP_TYPE_ARRAY, 4, 4, 1, "flow_epoch");
            counters = BpfMap.create(Bpf.BPF_MAP_TYPE_PERCPU_ARRAY, 4, FlowValue.COUNTERS_LENGTH, counterSlots, "flow_counters");
            return new XdpFlowTable(maxFlows, counterSlots, flows, epoch, counters);
        }
        catch (final RuntimeException ex)
        {
            for (final BpfMap map : new BpfMap[] {flows, epoch, counters})
            {
                if (map != null)
                {
                    map.close();
                }
            }
            throw ex;
        }
    }

    public int maxFlows()
    {
        return maxFlows;
    }

    public int flowsFd()
    {
        return flows.fd();
    }

    public int epochFd()
    {
        return epoch.fd();
    }

    public int countersFd()
    {
        return counters.fd();
    }

    /** @return the current value of flow_epoch[0]. */
    public synchronized int epoch()
    {
        epochKey.set(JAVA_INT, 0, 0);
        NativeException.check(Bpf.elem(epochAttr, Bpf.BPF_MAP_LOOKUP_ELEM, epoch.fd(), epochKey, epochValue, 0),
            "bpf(BPF_MAP_LOOKUP_ELEM flow_epoch[0])", null);
        return epochValue.get(JAVA_INT, 0);
    }

    /**
     * Increment flow_epoch[0] (control path: e.g. a neighbour's MAC changed). From the next frame on, every entry
     * written with an older epoch is left to the forwarder, which re-installs it with the new one.
     *
     * @return the new epoch
     */
    public synchronized int bumpEpoch()
    {
        final int next = epoch() + 1;
        epochValue.set(JAVA_INT, 0, next);
        NativeException.check(Bpf.elem(epochAttr, Bpf.BPF_MAP_UPDATE_ELEM, epoch.fd(), epochKey, epochValue, Bpf.BPF_ANY),
            "bpf(BPF_MAP_UPDATE_ELEM flow_epoch[0])", null);
        return next;
    }

    /**
     * Sums over CPUs of slot's 4 counters into out[0..3] (packetsToBackend, bytesToBackend, packetsToClient,
     * bytesToClient). Zero-allocation; not thread-safe (one caller thread).
     */
    public void counters(final int slot, final long[] out)
    {
        if (slot < 0 || slot >= counterSlots)
        {
            throw new IndexOutOfBoundsException("counter slot " + slot + " not in 0.." + (counterSlots - 1));
        }
        countersKey.set(JAVA_INT, 0, slot);
        NativeException.check(Bpf.elem(countersAttr, Bpf.BPF_MAP_LOOKUP_ELEM, counters.fd(), countersKey, countersValue, 0),
            "bpf(BPF_MAP_LOOKUP_ELEM flow_counters)", null);
        out[0] = 0;
        out[1] = 0;
        out[2] = 0;
        out[3] = 0;
        for (int base = 0; base < perCpuBytes; base += FlowValue.COUNTERS_LENGTH)
        {
            out[0] += countersValue.get(JAVA_LONG, base);
            out[1] += countersValue.get(JAVA_LONG, base + 8);
            out[2] += countersValue.get(JAVA_LONG, base + 16);
            out[3] += countersValue.get(JAVA_LONG, base + 24);
        }
    }

    /** One per thread: preallocated off-heap key/value/attr; zero allocation per call; not thread-safe. */
    public Writer writer()
    {
        return new Writer();
    }

    /** @return the number of entries in {@code flows} (walks the keys; tests and diagnostics only). */
    public long entryCount()
    {
        return flows.keys().size();
    }

    @Override
    public void close()
    {
        flows.close();
        epoch.close();
        counters.close();
        arena.close();
    }

    static boolean isV4Mapped(final long high, final long low)
    {
        return high == 0 && (low >>> 32) == V4_MAPPED_PREFIX;
    }

    /** RFC 1624: sum over the 16-bit words of {@code count} (low first) that differ of (~old & 0xFFFF) + new. */
    static long wordsDelta(final long oldBits, final long newBits, final int count)
    {
        long sum = 0;
        for (int i = 0; i < count; i++)
        {
            final int shift = 16 * i;
            final long oldWord = (oldBits >>> shift) & 0xFFFF;
            final long newWord = (newBits >>> shift) & 0xFFFF;
            if (oldWord != newWord)
            {
                sum += (~oldWord & 0xFFFF) + newWord;
            }
        }
        return sum;
    }

    /**
     * Installs, looks up and deletes entries of {@code flows}; one per thread (see {@link #writer()}). Entries can be
     * staged and then installed or deleted together, one bpf(2) call for up to {@link #BATCH} of them
     * (BPF_MAP_UPDATE_BATCH / BPF_MAP_DELETE_BATCH): a forwarder installs a session's two directions at once and
     * deletes the entries of the sessions that ended in a duty cycle at its end.
     */
    public final class Writer
    {
        /** Most entries staged for one batch call. */
        public static final int BATCH = 64;

        private final MemorySegment attr = arena.allocate(Bpf.ATTR_ELEM_SIZE, 8);
        private final MemorySegment batchAttr = arena.allocate(Bpf.ATTR_BATCH_SIZE, 8);
        private final MemorySegment key = arena.allocate(FlowKey.LENGTH, 8);
        private final MemorySegment value = arena.allocate(FlowValue.LENGTH, 8);
        private final MemorySegment stagedKeys = arena.allocate((long)FlowKey.LENGTH * BATCH, 8);
        private final MemorySegment stagedValues = arena.allocate((long)FlowValue.LENGTH * BATCH, 8);
        private final MemorySegment deleteKeys = arena.allocate((long)FlowKey.LENGTH * BATCH, 8);
        private final int[] processed = new int[1];
        private int staged;
        private int deletes;

        private Writer()
        {
        }

        /**
         * Stages an entry as {@link #put} would install it, for {@link #commit}; at most {@link #BATCH} (commit first).
         */
        public void stage(final long srcHigh, final long srcLow, final long dstHigh, final long dstLow, final int srcPort,
            final int dstPort, final int protocol, final long newSrcHigh, final long newSrcLow, final long newDstHigh,
            final long newDstLow, final int newSrcPort, final int newDstPort, final long dstMac, final long srcMac,
            final int egressIfindex, final int epoch, final int listenerSlot, final int backendSlot, final boolean toBackend)
        {
            if (staged == BATCH)
            {
                throw new IllegalStateException("stage: " + BATCH + " entries staged already; commit first");
            }
            fill(srcHigh, srcLow, dstHigh, dstLow, srcPort, dstPort, protocol, newSrcHigh, newSrcLow, newDstHigh, newDstLow,
                newSrcPort, newDstPort, dstMac, srcMac, egressIfindex, epoch, listenerSlot, backendSlot, toBackend);
            MemorySegment.copy(key, 0, stagedKeys, (long)staged * FlowKey.LENGTH, FlowKey.LENGTH);
            MemorySegment.copy(value, 0, stagedValues, (long)staged * FlowValue.LENGTH, FlowValue.LENGTH);
            staged++;
        }

        /**
         * Installs or replaces the staged entries in one bpf(2) call, in the order staged; the kernel stops at the first
         * that does not fit (the map full).
         *
         * @return how many were installed (the first n staged); other errors throw NativeException.
         */
        public int commit()
        {
            final int count = staged;
            staged = 0;
            if (count == 0)
            {
                return 0;
            }
            final int rc = Bpf.batch(batchAttr, Bpf.BPF_MAP_UPDATE_BATCH, flows.fd(), stagedKeys, stagedValues, count,
                Bpf.BPF_ANY, processed);
            if (rc == -Errno.E2BIG)
            {
                return processed[0];
            }
            NativeException.check(rc, "bpf(BPF_MAP_UPDATE_BATCH flows)", null);
            return count;
        }

        /** Stages the deletion of an entry for {@link #commitDeletes}; commits by itself when {@link #BATCH} are staged. */
        public void stageDelete(final long srcHigh, final long srcLow, final long dstHigh, final long dstLow, final int srcPort,
            final int dstPort, final int protocol)
        {
            if (deletes == BATCH)
            {
                commitDeletes();
            }
            key(srcHigh, srcLow, dstHigh, dstLow, srcPort, dstPort, protocol);
            MemorySegment.copy(key, 0, deleteKeys, (long)deletes * FlowKey.LENGTH, FlowKey.LENGTH);
            deletes++;
        }

        /** @return true when deletions are staged. */
        public boolean hasStagedDeletes()
        {
            return deletes > 0;
        }

        /**
         * Deletes the staged entries, one bpf(2) call when all exist; an absent one is skipped (the kernel stops at it,
         * and the rest go in a further call).
         *
         * @return how many were deleted.
         */
        public int commitDeletes()
        {
            int from = 0;
            int deleted = 0;
            while (from < deletes)
            {
                final int count = deletes - from;
                // (a slice only after an absent key: the common call allocates nothing)
                final MemorySegment keys = from == 0 ? deleteKeys : deleteKeys.asSlice((long)from * FlowKey.LENGTH);
                final int rc = Bpf.batch(batchAttr, Bpf.BPF_MAP_DELETE_BATCH, flows.fd(), keys, MemorySegment.NULL, count, 0,
                    processed);
                if (rc == 0)
                {
                    deleted += count;
                    break;
                }
                if (rc != -Errno.ENOENT)
                {
                    deletes = 0;
                    NativeException.check(rc, "bpf(BPF_MAP_DELETE_BATCH flows)", null);
                }
                deleted += processed[0];
                from += processed[0] + 1;
            }
            deletes = 0;
            return deleted;
        }

        /**
         * Installs or replaces (BPF_ANY) the entry for frames arriving as (src, dst, srcPort, dstPort, protocol),
         * rewritten to (newSrc, newDst, newSrcPort, newDstPort). Addresses are (high, low) longs: the 128-bit
         * address as two big-endian halves, IPv4 as ::ffff:a.b.c.d (high 0, low 0x0000FFFF_xxxxxxxx). Ports host
         * ints 0..65535. MACs: the 6 bytes in the low 48 bits of a long, first byte in bits 47..40.
         *
         * @return true when installed, false when the map is full (E2BIG); other errors throw NativeException.
         */
        public boolean put(final long srcHigh, final long srcLow, final long dstHigh, final long dstLow, final int srcPort,
            final int dstPort, final int protocol, final long newSrcHigh, final long newSrcLow, final long newDstHigh,
            final long newDstLow, final int newSrcPort, final int newDstPort, final long dstMac, final long srcMac,
            final int egressIfindex, final int epoch, final int listenerSlot, final int backendSlot, final boolean toBackend)
        {
            fill(srcHigh, srcLow, dstHigh, dstLow, srcPort, dstPort, protocol, newSrcHigh, newSrcLow, newDstHigh, newDstLow,
                newSrcPort, newDstPort, dstMac, srcMac, egressIfindex, epoch, listenerSlot, backendSlot, toBackend);
            final int rc = Bpf.elem(attr, Bpf.BPF_MAP_UPDATE_ELEM, flows.fd(), key, value, Bpf.BPF_ANY);
            if (rc == -Errno.E2BIG)
            {
                return false;
            }
            NativeException.check(rc, "bpf(BPF_MAP_UPDATE_ELEM flows)", null);
            return true;
        }

        /** Writes {@code key} and {@code value} for an entry (see {@link #put}). */
        private void fill(final long srcHigh, final long srcLow, final long dstHigh, final long dstLow, final int srcPort,
            final int dstPort, final int protocol, final long newSrcHigh, final long newSrcLow, final long newDstHigh,
            final long newDstLow, final int newSrcPort, final int newDstPort, final long dstMac, final long srcMac,
            final int egressIfindex, final int epoch, final int listenerSlot, final int backendSlot, final boolean toBackend)
        {
            final boolean v4 = isV4Mapped(srcHigh, srcLow);
            if (v4 != isV4Mapped(dstHigh, dstLow) || v4 != isV4Mapped(newSrcHigh, newSrcLow) || v4 != isV4Mapped(newDstHigh, newDstLow))
            {
                throw new IllegalArgumentException("a flow entry cannot translate between IPv4 and IPv6");
            }
            key(srcHigh, srcLow, dstHigh, dstLow, srcPort, dstPort, protocol);

            final int addressWords = v4 ? 2 : 4;
            long ipDelta = wordsDelta(srcLow, newSrcLow, addressWords) + wordsDelta(dstLow, newDstLow, addressWords);
            if (!v4)
            {
                ipDelta += wordsDelta(srcHigh, newSrcHigh, 4) + wordsDelta(dstHigh, newDstHigh, 4);
            }
            final long l4Delta = ipDelta + wordsDelta(srcPort, newSrcPort, 1) + wordsDelta(dstPort, newDstPort, 1);

            value.set(LONG_BE, FlowValue.NEW_SOURCE_OFFSET, newSrcHigh);
            value.set(LONG_BE, FlowValue.NEW_SOURCE_OFFSET + 8, newSrcLow);
            value.set(LONG_BE, FlowValue.NEW_DESTINATION_OFFSET, newDstHigh);
            value.set(LONG_BE, FlowValue.NEW_DESTINATION_OFFSET + 8, newDstLow);
            value.set(SHORT_BE, FlowValue.NEW_SOURCE_PORT_OFFSET, (short)newSrcPort);
            value.set(SHORT_BE, FlowValue.NEW_DESTINATION_PORT_OFFSET, (short)newDstPort);
            for (int i = 0; i < 6; i++)
            {
                value.set(JAVA_BYTE, FlowValue.DESTINATION_MAC_OFFSET + i, (byte)(dstMac >>> (40 - 8 * i)));
                value.set(JAVA_BYTE, FlowValue.SOURCE_MAC_OFFSET + i, (byte)(srcMac >>> (40 - 8 * i)));
            }
            value.set(JAVA_INT, FlowValue.EGRESS_IFINDEX_OFFSET, egressIfindex);
            value.set(JAVA_INT, FlowValue.L4_CHECKSUM_DELTA_OFFSET, (int)l4Delta);
            value.set(JAVA_INT, FlowValue.IP_CHECKSUM_DELTA_OFFSET, v4 ? (int)ipDelta : 0);
            value.set(JAVA_INT, FlowValue.EPOCH_OFFSET, epoch);
            value.set(JAVA_INT, FlowValue.LISTENER_SLOT_OFFSET, listenerSlot);
            value.set(JAVA_INT, FlowValue.BACKEND_SLOT_OFFSET, backendSlot);
            value.set(JAVA_INT, FlowValue.FLAGS_OFFSET, toBackend ? FlowValue.FLAG_TO_BACKEND : 0);
            value.set(JAVA_INT, FlowValue.FLAGS_OFFSET + 4, 0);
            value.set(JAVA_LONG, FlowValue.LAST_SEEN_OFFSET, 0L);
        }

        /** @return true when deleted, false when absent. */
        public boolean delete(final long srcHigh, final long srcLow, final long dstHigh, final long dstLow, final int srcPort,
            final int dstPort, final int protocol)
        {
            key(srcHigh, srcLow, dstHigh, dstLow, srcPort, dstPort, protocol);
            final int rc = Bpf.elem(attr, Bpf.BPF_MAP_DELETE_ELEM, flows.fd(), key, MemorySegment.NULL, 0);
            if (rc == -Errno.ENOENT)
            {
                return false;
            }
            NativeException.check(rc, "bpf(BPF_MAP_DELETE_ELEM flows)", null);
            return true;
        }

        /**
         * @return the entry's last-seen ns (0 when the program has not forwarded a frame of it since put), or -1 when
         *     there is no such entry.
         */
        public long lastSeen(final long srcHigh, final long srcLow, final long dstHigh, final long dstLow, final int srcPort,
            final int dstPort, final int protocol)
        {
            key(srcHigh, srcLow, dstHigh, dstLow, srcPort, dstPort, protocol);
            final int rc = Bpf.elem(attr, Bpf.BPF_MAP_LOOKUP_ELEM, flows.fd(), key, value, 0);
            if (rc == -Errno.ENOENT)
            {
                return -1;
            }
            NativeException.check(rc, "bpf(BPF_MAP_LOOKUP_ELEM flows)", null);
            return value.get(JAVA_LONG, FlowValue.LAST_SEEN_OFFSET);
        }

        private void key(final long srcHigh, final long srcLow, final long dstHigh, final long dstLow, final int srcPort,
            final int dstPort, final int protocol)
        {
            key.set(LONG_BE, FlowKey.SOURCE_OFFSET, srcHigh);
            key.set(LONG_BE, FlowKey.SOURCE_OFFSET + 8, srcLow);
            key.set(LONG_BE, FlowKey.DESTINATION_OFFSET, dstHigh);
            key.set(LONG_BE, FlowKey.DESTINATION_OFFSET + 8, dstLow);
            key.set(SHORT_BE, FlowKey.SOURCE_PORT_OFFSET, (short)srcPort);
            key.set(SHORT_BE, FlowKey.DESTINATION_PORT_OFFSET, (short)dstPort);
            key.set(JAVA_INT, FlowKey.PROTOCOL_OFFSET, 0);
            key.set(JAVA_BYTE, FlowKey.PROTOCOL_OFFSET, (byte)protocol);
        }
    }
}
