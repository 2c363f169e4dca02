package io.sluice.l7;

/** How a listener spreads requests over the up servers of a group (CONTRACT.md `scheduler` for http/https). */
public enum SchedulerType
{
    /** Round robin, weights ignored. */
    RR,
    /** Smooth weighted round robin. */
    WRR,
    /** Weighted least connections: fewest in-flight requests per unit of weight. */
    WLC,
    /** Weighted rendezvous hash of {@link HashKey}: the same key keeps its server while that server stays up. */
    HASH
}
