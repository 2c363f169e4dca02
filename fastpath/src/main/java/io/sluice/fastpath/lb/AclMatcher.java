package io.sluice.fastpath.lb;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;

import io.sluice.fastpath.config.Acl;
import io.sluice.fastpath.config.Cidr;
import io.sluice.fastpath.packet.IpAddresses;

/**
 * A compiled ACL: prefixes in the uniform 128-bit address form, grouped by length, each group a sorted array of
 * masked (high, low) pairs. A match masks the address once per distinct length and binary-searches — O(lengths ×
 * log n), no allocation. Lists are small and lengths few in practice; this beats a trie on cache misses.
 */
public final class AclMatcher
{
    private static final AclMatcher ALLOW_ALL = new AclMatcher(false, new int[0], new long[0][], new long[0][]);

    private final boolean allowMode;
    private final int[] lengths;
    private final long[][] highs;
    private final long[][] lows;

    private AclMatcher(final boolean allowMode, final int[] lengths, final long[][] highs, final long[][] lows)
    {
        this.allowMode = allowMode;
        this.lengths = lengths;
        this.highs = highs;
        this.lows = lows;
    }

    public static AclMatcher compile(final Acl acl)
    {
        if (acl.mode() == Acl.Mode.DENY && acl.cidrs().isEmpty())
        {
            return ALLOW_ALL;
        }
        final TreeMap<Integer, List<long[]>> byLength = new TreeMap<>();
        for (final Cidr cidr : acl.cidrs())
        {
            final int length = cidr.uniformPrefixLength();
            final long high = IpAddresses.high(cidr.address()) & highMask(length);
            final long low = IpAddresses.low(cidr.address()) & lowMask(length);
            byLength.computeIfAbsent(length, k -> new ArrayList<>()).add(new long[]{high, low});
        }
        final int n = byLength.size();
        final int[] lengths = new int[n];
        final long[][] highs = new long[n][];
        final long[][] lows = new long[n][];
        int g = 0;
        for (final var e : byLength.descendingMap().entrySet())
        {
            final long[][] sorted = e.getValue().stream()
                .sorted((a, b) -> a[0] != b[0] ? Long.compareUnsigned(a[0], b[0]) : Long.compareUnsigned(a[1], b[1]))
                .distinct().toArray(long[][]::new);
            lengths[g] = e.getKey();
            highs[g] = Arrays.stream(sorted).mapToLong(p -> p[0]).toArray();
            lows[g] = Arrays.stream(sorted).mapToLong(p -> p[1]).toArray();
            g++;
        }
        return new AclMatcher(acl.mode() == Acl.Mode.ALLOW, lengths, highs, lows);
    }

    /** True when a new flow from this source may proceed. */
    public boolean admits(final long high, final long low)
    {
        return allowMode == contains(high, low);
    }

    public boolean contains(final long high, final long low)
    {
        for (int g = 0; g < lengths.length; g++)
        {
            final int length = lengths[g];
            if (search(highs[g], lows[g], high & highMask(length), low & lowMask(length)))
            {
                return true;
            }
        }
        return false;
    }

    private static boolean search(final long[] hs, final long[] ls, final long high, final long low)
    {
        int lo = 0;
        int hi = hs.length - 1;
        while (lo <= hi)
        {
            final int mid = (lo + hi) >>> 1;
            int cmp = Long.compareUnsigned(hs[mid], high);
            if (cmp == 0)
            {
                cmp = Long.compareUnsigned(ls[mid], low);
            }
            if (cmp < 0)
            {
                lo = mid + 1;
            }
            else if (cmp > 0)
            {
                hi = mid - 1;
            }
            else
            {
                return true;
            }
        }
        return false;
    }

    static long highMask(final int length)
    {
        return length >= 64 ? -1L : length == 0 ? 0 : -1L << (64 - length);
    }

    static long lowMask(final int length)
    {
        return length <= 64 ? 0 : length == 128 ? -1L : -1L << (128 - length);
    }
}
