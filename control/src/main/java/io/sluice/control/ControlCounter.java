package io.sluice.control;

import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;

import java.util.EnumSet;
import java.util.Set;

/**
 * Every counter of the control module, with its stable Agrona type id (control and perf range 600–699) and label,
 * shown by {@code sluice stat} and exported by {@code /metrics}. Ids come in blocks of ten, one per part of the node:
 * 600 node, 610 health checks, 620 API, 630 usage metering, 640 cluster membership. Never renumber: {@code sluice stat},
 * dashboards and tests key on the ids and labels.
 */
public enum ControlCounter
{
    /** 0 starting, 1 ready, 2 draining, 3 stopped ({@link #STATE_STARTING} ...). */
    NODE_STATE(600, "node.state"),
    NODE_CONFIG_VERSION(601, "node.config_version"),
    NODE_UPTIME_SECONDS(602, "node.uptime_seconds"),
    NODE_ADDRESSES_ADDED(603, "node.addresses_added"),
    NODE_CONDUCTOR_DUTY_CYCLES(604, "node.conductor_duty_cycles"),

    HEALTH_PROBES(610, "health.probes"),
    HEALTH_PROBE_FAILURES(611, "health.probe_failures"),
    HEALTH_TRANSITIONS(612, "health.transitions"),
    /** Gauge: (listener, server) pairs down now. */
    HEALTH_SERVERS_DOWN(613, "health.servers_down"),

    API_REQUESTS(620, "api.requests"),
    API_AUTH_FAILURES(621, "api.auth_failures"),

    USAGE_RECORDS(630, "usage.records"),

    CLUSTER_HEARTBEATS_SENT(640, "cluster.heartbeats.sent"),
    CLUSTER_HEARTBEATS_RECEIVED(641, "cluster.heartbeats.received"),
    CLUSTER_DROP_MALFORMED(642, "cluster.drop.malformed"),
    CLUSTER_DROP_BAD_MAC(643, "cluster.drop.bad_mac"),
    CLUSTER_DROP_REPLAY(644, "cluster.drop.replay"),
    CLUSTER_DROP_STALE(645, "cluster.drop.stale"),
    CLUSTER_DROP_UNKNOWN_PEER(646, "cluster.drop.unknown_peer"),
    /** Gauge: live nodes, this one included. */
    CLUSTER_LIVE_NODES(647, "cluster.live_nodes"),
    CLUSTER_PEER_DEATHS(648, "cluster.peer_deaths"),
    /** Gauge: for the last peer declared dead, milliseconds from its last heartbeat to the declaration. */
    CLUSTER_DEATH_DETECTION_MS(649, "cluster.death_detection_ms");

    /** Values of {@link #NODE_STATE}. */
    public static final long STATE_STARTING = 0;
    public static final long STATE_READY = 1;
    public static final long STATE_DRAINING = 2;
    public static final long STATE_STOPPED = 3;

    /** First ids of the blocks, for {@link #block(int)}. */
    public static final int NODE_BLOCK = 600;
    public static final int HEALTH_BLOCK = 610;
    public static final int API_BLOCK = 620;
    public static final int USAGE_BLOCK = 630;
    public static final int CLUSTER_BLOCK = 640;

    private final int typeId;
    private final String label;

    ControlCounter(final int typeId, final String label)
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

    /** Allocates this counter (once per node: every control counter is a global one). */
    public AtomicCounter newCounter(final CountersManager manager)
    {
        return manager.newCounter(label, typeId);
    }

    /** The counters of the block starting at {@code firstTypeId} (one of the {@code *_BLOCK} ids), in id order. */
    public static Set<ControlCounter> block(final int firstTypeId)
    {
        final Set<ControlCounter> block = EnumSet.noneOf(ControlCounter.class);
        for (final ControlCounter c : values())
        {
            if (c.typeId >= firstTypeId && c.typeId < firstTypeId + 10)
            {
                block.add(c);
            }
        }
        return block;
    }
}
