package io.sluice.control.config;

import com.fasterxml.jackson.annotation.JsonValue;

/** The kind of probe a health check sends. */
public enum HealthCheckType implements Schema.WireEnum
{
    TCP("tcp"),
    HTTP("http"),
    HTTPS("https"),
    UDP("udp");

    private final String wireName;

    HealthCheckType(final String wireName)
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
