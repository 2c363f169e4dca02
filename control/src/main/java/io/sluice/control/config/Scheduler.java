package io.sluice.control.config;

import com.fasterxml.jackson.annotation.JsonValue;

/** How a listener picks a server for a new flow or request. */
public enum Scheduler implements Schema.WireEnum
{
    RR("rr"),
    WRR("wrr"),
    WLC("wlc"),
    SH("sh"),
    MAGLEV("maglev"),
    HASH("hash");

    private final String wireName;

    Scheduler(final String wireName)
    {
        this.wireName = wireName;
    }

    @JsonValue
    @Override
    public String wireName()
    {
        return wireName;
    }
}
