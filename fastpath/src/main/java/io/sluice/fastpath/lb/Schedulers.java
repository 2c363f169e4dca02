package io.sluice.fastpath.lb;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import io.sluice.fastpath.config.SchedulerKind;

/** The five L4 schedulers over one listener's backend array. Only backends that are up with weight &gt; 0 are chosen. */
public final class Schedulers
{
    /** Smallest source-hashing table: plenty for an even spread of client addresses over few backends. */
    public static final int SOURCE_HASH_MIN_SIZE = 1021;

    private Schedulers()
    {
    }

    /** Builds a scheduler; consistent-hash tables are built here, on the control path. */
    public static Scheduler create(final SchedulerKind kind, final BackendState[] backends, final int maglevMinSize)
    {
        return switch (kind)
        {
            case RR -> new RoundRobin(backends);
            case WRR -> new SmoothWeightedRoundRobin(backends);
            case WLC -> new WeightedLeastConnection(backends);
            case SH -> new HashTable(table(backends, SOURCE_HASH_MIN_SIZE), true);
            case MAGLEV -> new HashTable(table(backends, maglevMinSize), false);
        };
    }

    static MaglevTable table(final BackendState[] backends, final int minimumSize)
    {
        final List<Integer> candidates = new ArrayList<>();
        for (int i = 0; i < backends.length; i++)
        {
            if (backends[i].available())
            {
                candidates.add(i);
            }
        }
        final int n = candidates.size();
        final long[] identities = new long[n];
        final int[] weights = new int[n];
        final int[] values = new int[n];
        for (int i = 0; i < n; i++)
        {
            final BackendState b = backends[candidates.get(i)];
            identities[i] = b.identity;
            weights[i] = b.weight;
            values[i] = candidates.get(i);
        }
        // Size from all configured backends, not just the live ones, so a failure does not resize (and reshuffle).
        return MaglevTable.build(identities, weights, values, MaglevTable.sizeFor(backends.length, minimumSize));
    }

    static final class RoundRobin implements Scheduler
    {
        private final BackendState[] backends;
        private int cursor;

        RoundRobin(final BackendState[] backends)
        {
            this.backends = backends;
        }

        @Override
        public int select(final long flowHash, final long sourceHash, final int[] activeByBackend)
        {
            return take(peek(flowHash, sourceHash, activeByBackend), flowHash, sourceHash, activeByBackend);
        }

        @Override
        public int peek(final long flowHash, final long sourceHash, final int[] activeByBackend)
        {
            final int n = backends.length;
            int candidate = cursor;
            for (int i = 0; i < n; i++)
            {
                if (backends[candidate].available())
                {
                    return candidate;
                }
                candidate = candidate + 1 == n ? 0 : candidate + 1;
            }
            return NONE;
        }

        @Override
        public int take(final int peeked, final long flowHash, final long sourceHash, final int[] activeByBackend)
        {
            // select leaves the cursor after its pick; with none available it went full circle.
            if (peeked != NONE)
            {
                cursor = peeked + 1 == backends.length ? 0 : peeked + 1;
            }
            return peeked;
        }
    }

    /**
     * nginx's smooth weighted round robin: each pick adds every weight, takes the largest, subtracts the total.
     * Availability and weights are fixed for the scheduler's lifetime (a table generation), so the available backends'
     * weights, their running weights and the total sit in arrays here: one pass over two int arrays per new flow
     * instead of a pointer chase per backend.
     */
    static final class SmoothWeightedRoundRobin implements Scheduler
    {
        /** Backend index (into the listener's backends) of each available backend, in configuration order. */
        private final int[] indexes;
        private final int[] weights;
        private final int[] currentWeights;
        /** Position in the arrays above of each backend index (-1 when unavailable): for take. */
        private final int[] positions;
        private final int total;

        SmoothWeightedRoundRobin(final BackendState[] backends)
        {
            int n = 0;
            for (final BackendState b : backends)
            {
                n += b.available() ? 1 : 0;
            }
            indexes = new int[n];
            weights = new int[n];
            currentWeights = new int[n];
            positions = new int[backends.length];
            Arrays.fill(positions, -1);
            int sum = 0;
            int j = 0;
            for (int i = 0; i < backends.length; i++)
            {
                if (backends[i].available())
                {
                    positions[i] = j;
                    indexes[j] = i;
                    weights[j] = backends[i].weight;
                    sum += backends[i].weight;
                    j++;
                }
            }
            total = sum;
        }

        @Override
        public int select(final long flowHash, final long sourceHash, final int[] activeByBackend)
        {
            // two passes over the (few) backends: the choice, then every running weight's update
            return take(peek(flowHash, sourceHash, activeByBackend), flowHash, sourceHash, activeByBackend);
        }

        @Override
        public int peek(final long flowHash, final long sourceHash, final int[] activeByBackend)
        {
            final int[] current = currentWeights;
            final int[] w = weights;
            final int n = current.length;
            if (n == 0)
            {
                return NONE;
            }
            // Smooth WRR's choice: the first of the largest running weights after adding every weight; take writes it.
            int best = 0;
            int bestWeight = current[0] + w[0];
            for (int i = 1; i < n; i++)
            {
                final int c = current[i] + w[i];
                if (c > bestWeight)
                {
                    best = i;
                    bestWeight = c;
                }
            }
            return indexes[best];
        }

        @Override
        public int take(final int peeked, final long flowHash, final long sourceHash, final int[] activeByBackend)
        {
            if (peeked == NONE)
            {
                return NONE;
            }
            // select's updates without its comparisons: every running weight grows by its weight, the pick's pays total.
            final int[] current = currentWeights;
            final int[] w = weights;
            for (int i = 0; i < current.length; i++)
            {
                current[i] += w[i];
            }
            current[positions[peeked]] -= total;
            return peeked;
        }
    }

    /** Least active sessions per unit of weight (compared by cross-multiplying), as LVS wlc; ties go to the first. */
    static final class WeightedLeastConnection implements Scheduler.Stateless
    {
        private final BackendState[] backends;

        WeightedLeastConnection(final BackendState[] backends)
        {
            this.backends = backends;
        }

        @Override
        public int select(final long flowHash, final long sourceHash, final int[] activeByBackend)
        {
            int best = NONE;
            long bestActive = 0;
            long bestWeight = 1;
            for (int i = 0; i < backends.length; i++)
            {
                final BackendState b = backends[i];
                if (!b.available())
                {
                    continue;
                }
                final long active = activeByBackend[b.id];
                if (best == NONE || active * bestWeight < bestActive * b.weight)
                {
                    best = i;
                    bestActive = active;
                    bestWeight = b.weight;
                }
            }
            return best;
        }
    }

    static final class HashTable implements Scheduler.Stateless
    {
        private final MaglevTable table;
        private final boolean bySource;

        HashTable(final MaglevTable table, final boolean bySource)
        {
            this.table = table;
            this.bySource = bySource;
        }

        @Override
        public int select(final long flowHash, final long sourceHash, final int[] activeByBackend)
        {
            return table.lookup(bySource ? sourceHash : flowHash);
        }
    }
}
