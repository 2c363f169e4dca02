package io.sluice.fastpath.lb;

import java.math.BigInteger;
import java.util.Arrays;

import io.sluice.fastpath.session.FlowHash;

/**
 * Maglev lookup table (Eisenbud et al., NSDI 2016 §3.4) with weights: each backend walks its own permutation of
 * the prime-sized table and claims free entries; per round a backend earns {@code weight} credits and claims one
 * entry per {@code maxWeight} credits, so its share follows its weight. Only backends passed in (the ones that are
 * up with weight &gt; 0) appear. Built on the control path, read on the data path.
 */
public final class MaglevTable
{
    public static final int DEFAULT_SIZE = 65537;
    public static final int ENTRIES_PER_BACKEND = 100;

    private final int[] entries;

    private MaglevTable(final int[] entries)
    {
        this.entries = entries;
    }

    /** Prime table size: at least {@code minimum} and at least 100 × backends. */
    public static int sizeFor(final int backends, final int minimum)
    {
        final long wanted = Math.max(minimum, (long)ENTRIES_PER_BACKEND * backends);
        return BigInteger.valueOf(wanted - 1).nextProbablePrime().intValueExact();
    }

    /**
     * @param identities stable 64-bit identity per candidate (hash of address and port), so the permutation of a
     *                   backend is the same on every node and across rebuilds.
     * @param weights    weight per candidate (&gt; 0).
     * @param values     value stored for each candidate (e.g. its index in the listener's backend array).
     */
    public static MaglevTable build(final long[] identities, final int[] weights, final int[] values, final int size)
    {
        final int[] entries = new int[size];
        Arrays.fill(entries, -1);
        final int n = identities.length;
        if (n == 0)
        {
            return new MaglevTable(entries);
        }
        final long[] offsets = new long[n];
        final long[] skips = new long[n];
        final long[] next = new long[n];
        final long[] credit = new long[n];
        int maxWeight = 1;
        for (int i = 0; i < n; i++)
        {
            final long h = FlowHash.mix(identities[i]);
            offsets[i] = Long.remainderUnsigned(h, size);
            skips[i] = Long.remainderUnsigned(FlowHash.mix(h ^ 0x5851_F42D_4C95_7F2DL), size - 1) + 1;
            maxWeight = Math.max(maxWeight, weights[i]);
        }
        int filled = 0;
        while (true)
        {
            for (int i = 0; i < n; i++)
            {
                credit[i] += weights[i];
                while (credit[i] >= maxWeight)
                {
                    credit[i] -= maxWeight;
                    int c = (int)((offsets[i] + next[i] * skips[i]) % size);
                    while (entries[c] >= 0)
                    {
                        next[i]++;
                        c = (int)((offsets[i] + next[i] * skips[i]) % size);
                    }
                    entries[c] = values[i];
                    next[i]++;
                    if (++filled == size)
                    {
                        return new MaglevTable(entries);
                    }
                }
            }
        }
    }

    public int size()
    {
        return entries.length;
    }

    /** Value for a hash, or -1 when no backend is available. */
    public int lookup(final long hash)
    {
        return entries[(int)Long.remainderUnsigned(hash, entries.length)];
    }
}
