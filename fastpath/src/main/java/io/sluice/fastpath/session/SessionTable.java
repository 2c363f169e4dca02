package io.sluice.fastpath.session;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import org.agrona.BitUtil;
import org.agrona.UnsafeApi;
import org.agrona.concurrent.UnsafeBuffer;

import static io.sluice.fastpath.session.SessionLayout.BACKEND_ADDRESS_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.BACKEND_PORT_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.CLIENT_ADDRESS_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.CLIENT_PORT_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.LAST_SEEN_NS_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.LINK_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.LOCAL_ADDRESS_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.LOCAL_PORT_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.PROTOCOL_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.RECORD_LENGTH;
import static io.sluice.fastpath.session.SessionLayout.STATE_CLOSED;
import static io.sluice.fastpath.session.SessionLayout.STATE_FREE;
import static io.sluice.fastpath.session.SessionLayout.STATE_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.TIMEOUT_SECONDS_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.VIP_ADDRESS_OFFSET;
import static io.sluice.fastpath.session.SessionLayout.VIP_PORT_OFFSET;

/**
 * One forwarder's session table: off-heap records ({@link SessionLayout}) plus an open-addressing index holding
 * both keys of every session, and a lazy timer wheel for expiry. Single writer, single reader: the owning forwarder.
 * <p>
 * <b>Index.</b> A power-of-two array of ints, at most 5/8 full with two keys per session, linear probing,
 * backward-shift deletion (no tombstones). An entry is {@code tag << 25 | (record + 1) << 1 | direction}: the tag
 * (7 high hash bits) rejects most non-matching probes without touching the record; 0 means empty. Records are
 * therefore limited to 2^24 - 2 per table (and the record area to 2 GiB, an UnsafeBuffer bound).
 * <p>
 * <b>Expiry.</b> Every live record sits in exactly one slot of a {@code wheelSlots}-slot wheel of {@code tickNs} ticks
 * (singly linked through {@link SessionLayout#LINK_OFFSET}). A packet only writes last-seen; nothing moves per packet.
 * When the wheel reaches a slot, each record there is expired if {@code lastSeen + timeout <= now}, or re-linked
 * into the slot of its new deadline. A record closed early (RST) loses its keys at once and is reclaimed when its
 * slot comes round; since every session starts in the short embryonic slot, that is soon for short flows.
 * <p>
 * Memory: {@code capacity × 136} bytes of records + {@code 4 × nextPow2(capacity × 3.2)} bytes of index,
 * i.e. 136 + 12.8..25.6 bytes per session (149 bytes at 10M sessions: 1.49 GB).
 */
public final class SessionTable implements AutoCloseable
{
    /** What expiry tells its caller about, before the record is freed. */
    @FunctionalInterface
    public interface ExpiryHandler
    {
        /** {@code record} timed out (its keys are already gone); {@code closed} when it had been closed before. */
        void onExpired(int record, boolean closed);

        /**
         * Called for a live record about to be judged (its timer is due, or table-full reclaim looks at an embryonic
         * one), before its last-seen time, timeout and state are read: a record whose frames are forwarded elsewhere
         * (the XDP flow offload) brings them up to date here. Default: nothing.
         */
        default void refresh(final int record)
        {
        }
    }

    /** Index entries address 2^24 − 2 records; the record area is one UnsafeBuffer (below 2 GiB): the smaller wins. */
    public static final int MAX_CAPACITY = Math.min((1 << 24) - 2, Integer.MAX_VALUE / RECORD_LENGTH);
    public static final int NOT_FOUND = -1;
    public static final int NO_RECORD = -1;
    /** Wheel slots and records {@link #reclaim} examines at most per new flow when the table is full. */
    public static final int RECLAIM_BUDGET = 256;

    private static final boolean NATIVE_LITTLE_ENDIAN = java.nio.ByteOrder.nativeOrder() == java.nio.ByteOrder.LITTLE_ENDIAN;
    private static final int TAG_SHIFT = 25;
    private static final int REF_MASK = (1 << TAG_SHIFT) - 1;

    private final Arena arena;
    private final UnsafeBuffer records;
    private final UnsafeBuffer index;
    // The off-heap addresses of both, for the lookup's reads (see lookup): fixed for the table's life.
    private final long recordsAddress;
    private final long indexAddress;
    private final int capacity;
    private final int indexMask;
    private final long tickNs;
    private final int[] wheel;
    private final int wheelMask;

    private int highWater;
    private int freeList;
    private int live;
    private int currentRecords;
    private long currentTick;
    private int pendingExpiry;

    // The short lane: sessions whose timeout just got shorter (closing) while they sit in a far wheel slot.
    private static final int SHORT_LANE_SLOTS = 1 << 16;
    private final int[] shortRecords = new int[SHORT_LANE_SLOTS];
    private final int[] shortGenerations = new int[SHORT_LANE_SLOTS];
    private final long[] shortDeadlines = new long[SHORT_LANE_SLOTS];
    private long shortHead;
    private long shortTail;

    public SessionTable(final int capacity, final long tickNs, final int wheelSlots, final long nowNs)
    {
        if (capacity < 1 || capacity > MAX_CAPACITY)
        {
            throw new IllegalArgumentException("session capacity " + capacity + " is not in 1.." + MAX_CAPACITY +
                " per forwarder");
        }
        this.capacity = capacity;
        final int indexSlots = BitUtil.findNextPositivePowerOfTwo((int)Math.min(1L << 30, (long)capacity * 16 / 5 + 1));
        this.indexMask = indexSlots - 1;
        this.arena = Arena.ofShared();
        final MemorySegment recordSegment = arena.allocate((long)capacity * RECORD_LENGTH, 64);
        final MemorySegment indexSegment = arena.allocate((long)indexSlots * Integer.BYTES, 64);
        this.records = new UnsafeBuffer(recordSegment.address(), (int)recordSegment.byteSize());
        this.index = new UnsafeBuffer(indexSegment.address(), (int)indexSegment.byteSize());
        this.recordsAddress = recordSegment.address();
        this.indexAddress = indexSegment.address();
        this.tickNs = tickNs;
        this.wheel = new int[BitUtil.findNextPositivePowerOfTwo(wheelSlots)];
        this.wheelMask = wheel.length - 1;
        this.currentTick = nowNs / tickNs;
    }

    public UnsafeBuffer records()
    {
        return records;
    }

    public int capacity()
    {
        return capacity;
    }

    /** Sessions holding keys (not closed, not free). */
    public int liveCount()
    {
        return live;
    }

    /** Records in use, including closed ones awaiting reclaim. */
    public int recordsInUse()
    {
        return currentRecords;
    }

    public long indexBytes()
    {
        return index.capacity();
    }

    public long recordBytes()
    {
        return records.capacity();
    }

    /** Absolute address of the record at byte offset {@code base} ({@link #offset}) of the records: for {@link Records}. */
    public long address(final int base)
    {
        return recordsAddress + base;
    }

    public static int offset(final int record)
    {
        return record * RECORD_LENGTH;
    }

    public static int recordOf(final int ref)
    {
        return ref >> 1;
    }

    public static int directionOf(final int ref)
    {
        return ref & 1;
    }

    /**
     * Finds a session by one of its keys.
     *
     * @return {@code record << 1 | direction} ({@link SessionLayout#DIRECTION_CLIENT} or
     * {@link SessionLayout#DIRECTION_REPLY}), or {@link #NOT_FOUND}.
     */
    public int lookup(
        final long srcHigh, final long srcLow, final long dstHigh, final long dstLow,
        final int srcPort, final int dstPort, final int protocol)
    {
        return lookup(FlowHash.hash(srcHigh, srcLow, dstHigh, dstLow, srcPort, dstPort, protocol),
            srcHigh, srcLow, dstHigh, dstLow, srcPort, dstPort, protocol);
    }

    /**
     * {@link #lookup(long, long, long, long, int, int, int)} with the key's {@link FlowHash#hash} already computed
     * (the forwarder reuses it as the flow hash of a new flow and for {@link #insert(int, long, long, long)}).
     */
    public int lookup(
        final long hash, final long srcHigh, final long srcLow, final long dstHigh, final long dstLow,
        final int srcPort, final int dstPort, final int protocol)
    {
        // Raw reads of the off-heap index and records (slots are masked, records come from the index): through the
        // buffers, every read would pay a bounds check and re-read the buffer's address after each other read.
        final long indexAt = indexAddress;
        final int tag = (int)(hash >>> 57);
        int slot = (int)hash & indexMask;
        while (true)
        {
            final int entry = UnsafeApi.getInt(null, indexAt + ((long)slot << 2));
            if (entry == 0)
            {
                return NOT_FOUND;
            }
            if (entry >>> TAG_SHIFT == tag)
            {
                final int ref = (entry & REF_MASK) - 2;
                if (matches(ref, srcHigh, srcLow, dstHigh, dstLow, srcPort, dstPort, protocol))
                {
                    return ref;
                }
            }
            slot = (slot + 1) & indexMask;
        }
    }

    /**
     * Reads the index slot a key with this {@link FlowHash#hash} starts its probe at, and returns it: a prefetch. Java
     * has none, but a load whose value is consumed later lets the CPU wait for several cache misses at once; the
     * forwarder touches both keys of a likely new flow before it looks either up (docs/fastpath.md, session 7).
     */
    public int touch(final long hash)
    {
        return UnsafeApi.getInt(null, indexAddress + (((long)hash & indexMask) << 2));
    }

    /** Takes a free record (zeroed), or returns {@link #NO_RECORD} when the table is full. */
    public int allocate()
    {
        final int record;
        if (freeList != 0)
        {
            record = freeList - 1;
            freeList = records.getInt(offset(record) + LINK_OFFSET);
        }
        else if (highWater < capacity)
        {
            record = highWater++;
        }
        else
        {
            return NO_RECORD;
        }
        records.setMemory(offset(record), RECORD_LENGTH, (byte)0);
        currentRecords++;
        return record;
    }

    /**
     * Table full: takes back the oldest reclaimable record — a closed one awaiting its wheel slot, or an embryonic
     * TCP session (SYN seen, handshake not complete) — so a SYN flood displaces only other half-open sessions and never
     * an established one. The wheel is walked from the next tick onwards (embryonic sessions share one short timeout,
     * so nearer slots hold older ones), examining at most {@code budget} slots and records. The record is unlinked
     * from its slot and its keys are removed; its contents are left for the caller to account (the state byte still
     * says what it was), then it must be handed to {@link #reuse}.
     *
     * @return the record, or {@link #NO_RECORD} when none was found within the budget.
     */
    public int reclaim(final int budget)
    {
        return reclaim(budget, null);
    }

    /**
     * {@link #reclaim(int)}, with {@code handler} asked to {@link ExpiryHandler#refresh} each embryonic candidate
     * first (an offloaded session's handshake may have completed where this table did not see it); null: no refresh.
     */
    public int reclaim(final int budget, final ExpiryHandler handler)
    {
        int examined = 0;
        for (long tick = currentTick + 1; tick <= currentTick + wheelMask && examined < budget; tick++)
        {
            final int slot = (int)tick & wheelMask;
            examined++;
            int previous = -1;
            int link = wheel[slot];
            while (link != 0 && examined < budget)
            {
                final int record = link - 1;
                final int base = offset(record);
                examined++;
                byte state = records.getByte(base + STATE_OFFSET);
                if (handler != null && (state == SessionLayout.STATE_TCP_SYN_SENT || state == SessionLayout.STATE_TCP_SYN_RECEIVED))
                {
                    handler.refresh(record);
                    state = records.getByte(base + STATE_OFFSET);
                }
                final int next = records.getInt(base + LINK_OFFSET);
                if (state == STATE_CLOSED || state == SessionLayout.STATE_TCP_SYN_SENT ||
                    state == SessionLayout.STATE_TCP_SYN_RECEIVED)
                {
                    if (previous < 0)
                    {
                        wheel[slot] = next;
                    }
                    else
                    {
                        records.putInt(offset(previous) + LINK_OFFSET, next);
                    }
                    if (state != STATE_CLOSED)
                    {
                        removeKeys(record);
                    }
                    return record;
                }
                previous = record;
                link = next;
            }
        }
        return NO_RECORD;
    }

    /** Zeroes a record {@link #reclaim} returned, ready to be filled in and {@link #insert}ed like a new one. */
    public void reuse(final int record)
    {
        records.setMemory(offset(record), RECORD_LENGTH, (byte)0);
    }

    /** Returns a record that never got its keys inserted (e.g. a new flow that failed after allocation). */
    public void release(final int record)
    {
        free(record);
    }

    /** Indexes both keys of a filled-in record and schedules its first expiry check. */
    public void insert(final int record, final long deadlineNs)
    {
        final int base = offset(record);
        insert(record, deadlineNs, keyHash(base, SessionLayout.DIRECTION_CLIENT), keyHash(base, SessionLayout.DIRECTION_REPLY));
    }

    /**
     * {@link #insert(int, long)} with both keys' {@link FlowHash#hash} already known (the forwarder computed them for
     * its lookup and its SNAT probe): saves re-reading the record and two hashes per new flow. The hashes must be those
     * of the record's client and reply keys.
     */
    public void insert(final int record, final long deadlineNs, final long clientKeyHash, final long replyKeyHash)
    {
        insertKey(record << 1, clientKeyHash);
        insertKey((record << 1) | 1, replyKeyHash);
        live++;
        schedule(record, deadlineNs);
    }

    /** Closes a session now (RST, removal): keys go, the record is reclaimed when its wheel slot comes round. */
    public void close(final int record)
    {
        final int base = offset(record);
        if (records.getByte(base + STATE_OFFSET) == STATE_CLOSED)
        {
            return;
        }
        removeKeys(record);
        records.putByte(base + STATE_OFFSET, STATE_CLOSED);
    }

    /**
     * Asks for an earlier expiry check of a record whose timeout just got shorter (a TCP FIN moves it from the
     * idle timeout to the closing one). The record stays in its wheel slot, which reclaims its memory; the short lane
     * removes its keys on time. All entries share one timeout, so the lane is FIFO in deadline order. When the lane is
     * full the check simply happens at the wheel slot.
     */
    public void expedite(final int record, final long deadlineNs)
    {
        if (shortTail - shortHead == SHORT_LANE_SLOTS)
        {
            return;
        }
        final int i = (int)shortTail & (SHORT_LANE_SLOTS - 1);
        shortRecords[i] = record;
        shortGenerations[i] = records.getInt(offset(record) + SessionLayout.GENERATION_OFFSET);
        shortDeadlines[i] = deadlineNs;
        shortTail++;
    }

    /** True when a session already uses this reply key (SNAT port probing). */
    public boolean replyKeyInUse(
        final long backendHigh, final long backendLow, final long localHigh, final long localLow,
        final int backendPort, final int localPort, final int protocol)
    {
        return lookup(backendHigh, backendLow, localHigh, localLow, backendPort, localPort, protocol) != NOT_FOUND;
    }

    /** {@link #replyKeyInUse} for a reply key whose {@link FlowHash#hash} is {@code hash}. */
    public boolean replyKeyInUse(
        final long hash, final long backendHigh, final long backendLow, final long localHigh, final long localLow,
        final int backendPort, final int localPort, final int protocol)
    {
        return lookup(hash, backendHigh, backendLow, localHigh, localLow, backendPort, localPort, protocol) != NOT_FOUND;
    }

    /**
     * Advances the wheel to {@code nowNs}, examining at most {@code budget} records.
     *
     * @return records examined (work done).
     */
    public int expire(final long nowNs, final int budget, final ExpiryHandler handler)
    {
        final long targetTick = nowNs / tickNs;
        int work = 0;
        while (work < budget && shortHead < shortTail && shortDeadlines[(int)shortHead & (SHORT_LANE_SLOTS - 1)] <= nowNs)
        {
            final int i = (int)shortHead & (SHORT_LANE_SLOTS - 1);
            shortHead++;
            work++;
            final int record = shortRecords[i];
            final int base = offset(record);
            final byte state = records.getByte(base + STATE_OFFSET);
            if (state == STATE_CLOSED || state == STATE_FREE ||
                records.getInt(base + SessionLayout.GENERATION_OFFSET) != shortGenerations[i])
            {
                continue;
            }
            handler.refresh(record);
            final long deadline = records.getLong(base + LAST_SEEN_NS_OFFSET) +
                (records.getShort(base + TIMEOUT_SECONDS_OFFSET) & 0xFFFFL) * 1_000_000_000L;
            if (deadline <= nowNs)
            {
                // Keys go now; the record is freed when its wheel slot comes round (it is still linked there).
                removeKeys(record);
                records.putByte(base + STATE_OFFSET, STATE_CLOSED);
                handler.onExpired(record, false);
            }
            else
            {
                expedite(record, deadline);
            }
        }
        while (work < budget)
        {
            if (pendingExpiry != 0)
            {
                final int record = pendingExpiry - 1;
                final int base = offset(record);
                pendingExpiry = records.getInt(base + LINK_OFFSET);
                work++;
                final byte state = records.getByte(base + STATE_OFFSET);
                if (state == STATE_CLOSED)
                {
                    handler.onExpired(record, true);
                    free(record);
                    continue;
                }
                handler.refresh(record);
                final long deadline = records.getLong(base + LAST_SEEN_NS_OFFSET) +
                    (records.getShort(base + TIMEOUT_SECONDS_OFFSET) & 0xFFFFL) * 1_000_000_000L;
                if (deadline <= nowNs)
                {
                    removeKeys(record);
                    records.putByte(base + STATE_OFFSET, STATE_CLOSED);
                    handler.onExpired(record, false);
                    free(record);
                }
                else
                {
                    schedule(record, deadline);
                }
            }
            else if (currentTick < targetTick)
            {
                currentTick++;
                final int slot = (int)currentTick & wheelMask;
                pendingExpiry = wheel[slot];
                wheel[slot] = 0;
            }
            else
            {
                break;
            }
        }
        return work;
    }

    /** Mean distance of indexed keys from their home slot (diagnostics; walks the whole index, off the data path). */
    public double meanProbeDistance()
    {
        long total = 0;
        long keys = 0;
        for (int slot = 0; slot <= indexMask; slot++)
        {
            final int entry = index.getInt(slot << 2);
            if (entry != 0)
            {
                total += (slot - homeSlot((entry & REF_MASK) - 2)) & indexMask;
                keys++;
            }
        }
        return keys == 0 ? 0 : (double)total / keys;
    }

    @Override
    public void close()
    {
        if (arena.scope().isAlive())
        {
            arena.close();
        }
    }

    private void schedule(final int record, final long deadlineNs)
    {
        long tick = deadlineNs / tickNs;
        if (deadlineNs % tickNs != 0)
        {
            tick++;
        }
        if (tick <= currentTick)
        {
            tick = currentTick + 1;
        }
        else if (tick - currentTick > wheelMask)
        {
            // Beyond one revolution: park it in the farthest slot; it is re-examined and re-linked then.
            tick = currentTick + wheelMask;
        }
        final int slot = (int)tick & wheelMask;
        records.putInt(offset(record) + LINK_OFFSET, wheel[slot]);
        wheel[slot] = record + 1;
    }

    private void free(final int record)
    {
        final int base = offset(record);
        records.putByte(base + STATE_OFFSET, STATE_FREE);
        records.putInt(base + LINK_OFFSET, freeList);
        freeList = record + 1;
        currentRecords--;
    }

    private void removeKeys(final int record)
    {
        final int base = offset(record);
        removeKey(record << 1, keyHash(base, SessionLayout.DIRECTION_CLIENT));
        removeKey((record << 1) | 1, keyHash(base, SessionLayout.DIRECTION_REPLY));
        live--;
    }

    private long keyHash(final int base, final int direction)
    {
        final int src = direction == SessionLayout.DIRECTION_CLIENT ? CLIENT_ADDRESS_OFFSET : BACKEND_ADDRESS_OFFSET;
        final int dst = direction == SessionLayout.DIRECTION_CLIENT ? VIP_ADDRESS_OFFSET : LOCAL_ADDRESS_OFFSET;
        final int srcPort = direction == SessionLayout.DIRECTION_CLIENT ? CLIENT_PORT_OFFSET : BACKEND_PORT_OFFSET;
        final int dstPort = direction == SessionLayout.DIRECTION_CLIENT ? VIP_PORT_OFFSET : LOCAL_PORT_OFFSET;
        return FlowHash.hash(
            records.getLong(base + src), records.getLong(base + src + 8),
            records.getLong(base + dst), records.getLong(base + dst + 8),
            records.getShort(base + srcPort) & 0xFFFF, records.getShort(base + dstPort) & 0xFFFF,
            records.getByte(base + PROTOCOL_OFFSET) & 0xFF);
    }

    private boolean matches(
        final int ref, final long srcHigh, final long srcLow, final long dstHigh, final long dstLow,
        final int srcPort, final int dstPort, final int protocol)
    {
        final long base = recordsAddress + offset(ref >> 1);
        final boolean client = (ref & 1) == SessionLayout.DIRECTION_CLIENT;
        final int src = client ? CLIENT_ADDRESS_OFFSET : BACKEND_ADDRESS_OFFSET;
        final int dst = client ? VIP_ADDRESS_OFFSET : LOCAL_ADDRESS_OFFSET;
        final int ports = client ? CLIENT_PORT_OFFSET : BACKEND_PORT_OFFSET;
        // Ports are adjacent (client, VIP) and (backend, local), stored in native order: one int compare.
        final int portPair = NATIVE_LITTLE_ENDIAN ? (srcPort & 0xFFFF) | (dstPort << 16) : (srcPort << 16) | (dstPort & 0xFFFF);
        return UnsafeApi.getLong(null, base + src + 8) == srcLow &&
            UnsafeApi.getLong(null, base + dst + 8) == dstLow &&
            UnsafeApi.getInt(null, base + ports) == portPair &&
            UnsafeApi.getLong(null, base + src) == srcHigh &&
            UnsafeApi.getLong(null, base + dst) == dstHigh &&
            (UnsafeApi.getByte(null, base + PROTOCOL_OFFSET) & 0xFF) == protocol;
    }

    private void insertKey(final int ref, final long hash)
    {
        final int entry = ((int)(hash >>> 57) << TAG_SHIFT) | (ref + 2);
        final long indexAt = indexAddress;
        int slot = (int)hash & indexMask;
        while (UnsafeApi.getInt(null, indexAt + ((long)slot << 2)) != 0)
        {
            slot = (slot + 1) & indexMask;
        }
        UnsafeApi.putInt(null, indexAt + ((long)slot << 2), entry);
    }

    private void removeKey(final int ref, final long hash)
    {
        int slot = (int)hash & indexMask;
        while (true)
        {
            final int entry = index.getInt(slot << 2);
            if (entry == 0)
            {
                return;
            }
            if ((entry & REF_MASK) - 2 == ref)
            {
                break;
            }
            slot = (slot + 1) & indexMask;
        }
        // Backward-shift deletion: pull later members of the probe run into the hole so lookups never stop early.
        int hole = slot;
        int next = (hole + 1) & indexMask;
        while (true)
        {
            final int entry = index.getInt(next << 2);
            if (entry == 0)
            {
                break;
            }
            final int home = homeSlot((entry & REF_MASK) - 2);
            if (((next - home) & indexMask) >= ((next - hole) & indexMask))
            {
                index.putInt(hole << 2, entry);
                hole = next;
            }
            next = (next + 1) & indexMask;
        }
        index.putInt(hole << 2, 0);
    }

    private int homeSlot(final int ref)
    {
        return (int)keyHash(offset(ref >> 1), ref & 1) & indexMask;
    }
}
