package io.sluice.control.cluster;

/** Cluster membership counters (control range, ids 640–649), shown by {@code sluice stat}. */
public enum ClusterCounter
{
    HEARTBEATS_SENT(640, "cluster.heartbeats.sent"),
    HEARTBEATS_RECEIVED(641, "cluster.heartbeats.received"),
    DROP_MALFORMED(642, "cluster.drop.malformed"),
    DROP_BAD_MAC(643, "cluster.drop.bad_mac"),
    DROP_REPLAY(644, "cluster.drop.replay"),
    DROP_STALE(645, "cluster.drop.stale"),
    DROP_UNKNOWN_PEER(646, "cluster.drop.unknown_peer"),
    /** Gauge: live nodes, this one included. */
    LIVE_NODES(647, "cluster.live_nodes"),
    PEER_DEATHS(648, "cluster.peer_deaths"),
    /** Gauge: for the last peer declared dead, milliseconds from its last heartbeat to the declaration. */
    DEATH_DETECTION_MS(649, "cluster.death_detection_ms");

    private final int typeId;
    private final String label;

    ClusterCounter(final int typeId, final String label)
    {
        this.typeId = typeId;
        this.label = label;
    }

    public int typeId()
    {
        return typeId;
    }

    public String label()
    {
        return label;
    }
}
