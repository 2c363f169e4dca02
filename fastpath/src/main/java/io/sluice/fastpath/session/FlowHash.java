package io.sluice.fastpath.session;

/**
 * The one flow hash of the fastpath. It is fixed (no per-process seed) because ownership (hash mod forwarders)
 * and Maglev must give the same answer on every node of a cluster.
 */
public final class FlowHash
{
    private FlowHash()
    {
    }

    public static long hash(
        final long srcHigh, final long srcLow, final long dstHigh, final long dstLow,
        final int srcPort, final int dstPort, final int protocol)
    {
        // Four independent multiplies (they overlap in the pipeline) folded by one finaliser: ~half the latency of
        // chaining a finaliser per field, with the same avalanche on the result.
        final long ports = ((long)srcPort << 24) | ((long)dstPort << 8) | protocol;
        final long h = srcLow * 0x9E37_79B9_7F4A_7C15L +
            Long.rotateLeft(dstLow * 0xC2B2_AE3D_27D4_EB4FL, 31) +
            (srcHigh ^ Long.rotateLeft(dstHigh, 17)) * 0x1656_67B1_9E37_79F9L +
            (ports ^ 0x27D4_EB2F_1656_67C5L) * 0x85EB_CA77_C2B2_AE63L;
        // Half a finaliser suffices after the multiplies: high bits are already well mixed, this spreads them down.
        final long k = (h ^ (h >>> 32)) * 0xD6E8_FEB8_6659_FD93L;
        return k ^ (k >>> 29);
    }

    /** Hash of a source address alone (source hashing, persistence). */
    public static long hashAddress(final long high, final long low)
    {
        return mix(mix(low ^ 0xC2B2_AE3D_27D4_EB4FL) ^ high);
    }

    /** The 64-bit finaliser of MurmurHash3: full avalanche for a few multiplies. */
    public static long mix(final long value)
    {
        long k = value;
        k ^= k >>> 33;
        k *= 0xFF51_AFD7_ED55_8CCDL;
        k ^= k >>> 33;
        k *= 0xC4CE_B9FE_1A85_EC53L;
        k ^= k >>> 33;
        return k;
    }
}
