package io.sluice.fastpath.config;

/** How a listener picks a backend for a new flow. */
public enum SchedulerKind
{
    /** Round robin over the backends that are up (weights ignored). */
    RR,
    /** Smooth weighted round robin (nginx's algorithm): shares follow the weights, interleaved. */
    WRR,
    /** Weighted least connections: fewest active sessions per unit of weight, counted per forwarder. */
    WLC,
    /** Source hashing: a consistent-hash table over the client address, weights honoured. */
    SH,
    /** Maglev consistent hashing over the flow 5-tuple: same backend on every node, minimal disruption. */
    MAGLEV;

    public static SchedulerKind parse(final String name)
    {
        for (final SchedulerKind kind : values())
        {
            if (kind.name().equalsIgnoreCase(name))
            {
                return kind;
            }
        }
        throw new IllegalArgumentException("scheduler: " + name + " is not one of rr, wrr, wlc, sh, maglev");
    }
}
