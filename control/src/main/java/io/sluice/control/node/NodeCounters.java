package io.sluice.control.node;

/** The node's own counters (type ids 600..699), shown by {@code sluice stat}. */
public enum NodeCounters
{
    /** 0 starting, 1 ready, 2 draining, 3 stopped. */
    STATE(600, "node.state"),
    CONFIG_VERSION(601, "node.config_version"),
    UPTIME_SECONDS(602, "node.uptime_seconds"),
    ADDRESSES_ADDED(603, "node.addresses_added"),
    CONDUCTOR_DUTY_CYCLES(604, "node.conductor_duty_cycles");

    public static final long STATE_STARTING = 0;
    public static final long STATE_READY = 1;
    public static final long STATE_DRAINING = 2;
    public static final long STATE_STOPPED = 3;

    private final int typeId;
    private final String label;

    NodeCounters(final int typeId, final String label)
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
