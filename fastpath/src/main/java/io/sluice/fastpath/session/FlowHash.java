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
        long h = mix(srcLow ^ 0x9E37_79B9_7F4A_7C15L);
        h = mix(h ^ srcHigh);
        h = mix(h ^ dstLow);
        h = mix(h ^ dstHigh);
        return mix(h ^ (((long)srcPort << 24) | ((long)dstPort << 8) | protocol));
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
