package io.sluice.l7;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A server group as one listener schedules it: the server states and the scheduler's precomputed tables. Immutable apart
 * from the atomic cursor, so event loops pick concurrently without locks.
 */
final class GroupRuntime
{
    private static final int MAX_WRR_SEQUENCE = 4096;

    final String name;
    final ServerState[] servers;
    final boolean http2;
    /** TLS to the servers: the settings and the client context built from them once per config (null: cleartext). */
    final UpstreamTls tls;
    final io.netty.handler.ssl.SslContext sslContext;
    private final SchedulerType scheduler;
    /** Smooth weighted round robin order (nginx's algorithm run once here), indices into servers. */
    private final int[] wrrSequence;
    private final AtomicLong cursor = new AtomicLong();

    GroupRuntime(final ServerGroup group, final ServerState[] servers, final SchedulerType scheduler)
    {
        this.name = group.name();
        this.servers = servers;
        this.http2 = group.http2();
        this.tls = group.tls();
        this.sslContext = tls == null ? null : tls.newContext(group.name(), http2);
        this.scheduler = scheduler;
        this.wrrSequence = smoothWeightedSequence(servers);
    }

    ServerState byId(final String id)
    {
        for (final ServerState server : servers)
        {
            if (server.id.equals(id))
            {
                return server;
            }
        }
        return null;
    }

    /**
     * Picks an available server.
     *
     * @param hashKey      the request's hash key for {@link SchedulerType#HASH} (null falls back to round robin).
     * @param excludedMask servers (by index &lt; 64) already tried for this request.
     * @return the server, or null when none is available.
     */
    ServerState pick(final String hashKey, final long excludedMask, final long nowNanos, final int maxConnections)
    {
        final int count = servers.length;
        if (count == 0)
        {
            return null;
        }
        return switch (scheduler)
        {
            case RR -> roundRobin(excludedMask, nowNanos, maxConnections);
            case WRR -> weightedRoundRobin(excludedMask, nowNanos, maxConnections);
            case WLC -> leastConnections(excludedMask, nowNanos, maxConnections);
            case HASH -> hashKey == null ? weightedRoundRobin(excludedMask, nowNanos, maxConnections) :
                rendezvous(hashKey, excludedMask, nowNanos, maxConnections);
        };
    }

    int indexOf(final ServerState server)
    {
        for (int i = 0; i < servers.length; i++)
        {
            if (servers[i] == server)
            {
                return i;
            }
        }
        return -1;
    }

    private boolean eligible(final int index, final long excludedMask, final long nowNanos, final int maxConnections)
    {
        return (index >= 64 || (excludedMask & (1L << index)) == 0) && servers[index].available(nowNanos, maxConnections);
    }

    private ServerState roundRobin(final long excludedMask, final long nowNanos, final int maxConnections)
    {
        final int count = servers.length;
        final int start = (int)Math.floorMod(cursor.getAndIncrement(), (long)count);
        for (int i = 0; i < count; i++)
        {
            final int index = (start + i) % count;
            if (eligible(index, excludedMask, nowNanos, maxConnections))
            {
                return servers[index];
            }
        }
        return null;
    }

    private ServerState weightedRoundRobin(final long excludedMask, final long nowNanos, final int maxConnections)
    {
        final int length = wrrSequence.length;
        if (length == 0)
        {
            return null;
        }
        final int start = (int)Math.floorMod(cursor.getAndIncrement(), (long)length);
        for (int i = 0; i < length; i++)
        {
            final int index = wrrSequence[(start + i) % length];
            if (eligible(index, excludedMask, nowNanos, maxConnections))
            {
                return servers[index];
            }
        }
        return null;
    }

    private ServerState leastConnections(final long excludedMask, final long nowNanos, final int maxConnections)
    {
        final int count = servers.length;
        final int start = (int)Math.floorMod(cursor.getAndIncrement(), (long)count);
        ServerState best = null;
        for (int i = 0; i < count; i++)
        {
            final int index = (start + i) % count;
            if (eligible(index, excludedMask, nowNanos, maxConnections))
            {
                final ServerState candidate = servers[index];
                // a/wa < b/wb  <=>  a*wb < b*wa, no division
                if (best == null || (long)candidate.inFlight.get() * best.server.weight() <
                    (long)best.inFlight.get() * candidate.server.weight())
                {
                    best = candidate;
                }
            }
        }
        return best;
    }

    private ServerState rendezvous(final String hashKey, final long excludedMask, final long nowNanos, final int maxConnections)
    {
        final long keyHash = Hashing.hash64(hashKey);
        ServerState best = null;
        double bestScore = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < servers.length; i++)
        {
            if (eligible(i, excludedMask, nowNanos, maxConnections))
            {
                final ServerState candidate = servers[i];
                final long combined = Hashing.mix(keyHash ^ Hashing.hash64(candidate.key));
                // uniform in (0,1); weighted rendezvous: score = -w / ln(u), so a server's share is proportional to w
                final double uniform = ((combined >>> 11) + 0.5) / (double)(1L << 53);
                final double score = -candidate.server.weight() / Math.log(uniform);
                if (score > bestScore)
                {
                    bestScore = score;
                    best = candidate;
                }
            }
        }
        return best;
    }

    private static int[] smoothWeightedSequence(final ServerState[] servers)
    {
        int gcd = 0;
        long total = 0;
        for (final ServerState server : servers)
        {
            gcd = gcd(gcd, server.server.weight());
            total += server.server.weight();
        }
        if (total == 0)
        {
            return new int[0];
        }
        final int[] weights = new int[servers.length];
        long length = 0;
        for (int i = 0; i < servers.length; i++)
        {
            weights[i] = servers[i].server.weight() / gcd;
            length += weights[i];
        }
        length = Math.min(length, MAX_WRR_SEQUENCE);
        final int[] current = new int[servers.length];
        final List<Integer> sequence = new ArrayList<>();
        int sum = 0;
        for (final int weight : weights)
        {
            sum += weight;
        }
        for (long step = 0; step < length; step++)
        {
            int best = -1;
            for (int i = 0; i < weights.length; i++)
            {
                current[i] += weights[i];
                if (weights[i] > 0 && (best < 0 || current[i] > current[best]))
                {
                    best = i;
                }
            }
            current[best] -= sum;
            sequence.add(best);
        }
        return sequence.stream().mapToInt(Integer::intValue).toArray();
    }

    private static int gcd(final int a, final int b)
    {
        return b == 0 ? a : gcd(b, a % b);
    }
}
